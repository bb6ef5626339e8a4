import { OutgoingMail } from './mailer';

/** A page of the web console (served by the gateway at the public address) given the mailed token. */
const consoleLink = (baseUrl: string, page: string, token: string) =>
  `${baseUrl}/${page}?token=${encodeURIComponent(token)}`;

/**
 * The mails identity sends. Each carries its one-time token on a `token: …` line (for API clients)
 * and a link to the console page that uses it, or to the console's invitations inbox.
 */
export const MailMessages = {
  verifyEmail(baseUrl: string, to: string, username: string, token: string): OutgoingMail {
    return {
      to,
      subject: 'Verify your email address for Atrium',
      text: [
        `Hello ${username},`,
        '',
        'confirm that this address is yours by opening this link (valid for 24 hours):',
        '',
        consoleLink(baseUrl, 'verify-email', token),
        '',
        'or by sending the token below to',
        `POST ${baseUrl}/v2/auth/verify-email {"token": "…"}.`,
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
        'someone asked to reset the password of your account. To choose a new one, open this link',
        '(valid for 1 hour, once):',
        '',
        consoleLink(baseUrl, 'reset-password', token),
        '',
        'or send the token below to',
        `POST ${baseUrl}/v2/auth/password-reset/confirm {"token": "…", "newPassword": "…"}.`,
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
        `Sign in (or sign up) with this address, verify it, and accept it in your invitations: ${baseUrl}/invitations`,
        `(or send POST ${baseUrl}/v2/invitations/accept {"token": "…"}).`,
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
        `Sign in (or sign up) with this address, verify it, and accept it in your invitations: ${baseUrl}/invitations`,
        `(or send POST ${baseUrl}/v2/collaborations/accept {"token": "…"}).`,
        '',
        `token: ${token}`,
      ].join('\n'),
    };
  },
};
