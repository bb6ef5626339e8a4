import { OutgoingMail } from './mailer';

/** The mails identity sends. Each carries its one-time token on a `token: …` line and as a link. */
export const MailMessages = {
  verifyEmail(baseUrl: string, to: string, username: string, token: string): OutgoingMail {
    return {
      to,
      subject: 'Verify your email address for Atrium',
      text: [
        `Hello ${username},`,
        '',
        'confirm that this address is yours by sending the token below to',
        `POST ${baseUrl}/v2/auth/verify-email {"token": "…"} (valid for 24 hours).`,
        '',
        `token: ${token}`,
        '',
        'If you did not sign up for Atrium, ignore this mail.',
      ].join('\n'),
    };
  },
  resetPassword(baseUrl: string, to: string, username: string, token: string): OutgoingMail {
    return {
      to,
      subject: 'Reset your Atrium password',
      text: [
        `Hello ${username},`,
        '',
        'someone asked to reset the password of your account. To choose a new one, send',
        `POST ${baseUrl}/v2/auth/password-reset/confirm {"token": "…", "newPassword": "…"} (valid for 1 hour, once).`,
        'Every session of the account ends when the password changes.',
        '',
        `token: ${token}`,
        '',
        'If it was not you, ignore this mail: your password stays as it is.',
      ].join('\n'),
    };
  },
  organizationInvitation(baseUrl: string, to: string, organization: string, token: string): OutgoingMail {
    return {
      to,
      subject: `You are invited to join the organization ${organization} on Atrium`,
      text: [
        `You are invited to join the organization ${organization}.`,
        '',
        `Sign in (or sign up) with this address, verify it, and send POST ${baseUrl}/v2/invitations/accept {"token": "…"}.`,
        '',
        `token: ${token}`,
      ].join('\n'),
    };
  },
  collaborationInvitation(baseUrl: string, to: string, primary: string, token: string): OutgoingMail {
    return {
      to,
      subject: `You are invited to collaborate with ${primary} on Atrium`,
      text: [
        `${primary} invited you to collaborate on their environments.`,
        '',
        `Sign in (or sign up) with this address, verify it, and send POST ${baseUrl}/v2/collaborations/accept {"token": "…"}.`,
        '',
        `token: ${token}`,
      ].join('\n'),
    };
  },
};
