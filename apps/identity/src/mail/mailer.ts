import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { IdentityConfig } from '@atrium/config';
import { newId } from '@atrium/auth';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import { DevMailEntity } from './dev-mail.entity';

export const IDENTITY_CONFIG = Symbol('IDENTITY_CONFIG');

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends identity's mail (verification, password reset, invitations): over SMTP with nodemailer when
 * SMTP_URL is set; otherwise into the dev mailbox — the `dev_mail` table of the identity schema
 * and, when MAIL_DIR is set (the embedded mode sets `<data dir>/mail`), one `.eml` file per mail —
 * which only the operator can read. Sending never fails the request that caused it: a mail that
 * could not be sent is logged, and every mail can be asked for again.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly logger = new Logger(Mailer.name);
  private readonly smtp: Transporter | null;
  private readonly from: string;
  private readonly mailDir: string | undefined;

  constructor(
    @Inject(IDENTITY_CONFIG) config: IdentityConfig,
    private readonly dataSource: DataSource,
  ) {
    // nodemailer is loaded only when there is an SMTP server to send to.
    this.smtp = config.SMTP_URL
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('nodemailer') as typeof import('nodemailer')).createTransport(config.SMTP_URL)
      : null;
    this.from = config.MAIL_FROM;
    this.mailDir = config.MAIL_DIR;
  }

  onModuleDestroy(): void {
    this.smtp?.close();
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      if (this.smtp) await this.smtp.sendMail({ from: this.from, ...mail });
      else await this.keep(mail);
    } catch (err) {
      this.logger.error(`Mail "${mail.subject}" could not be sent: ${(err as Error).message}`);
    }
  }

  private async keep(mail: OutgoingMail): Promise<void> {
    const id = newId();
    const to = mail.to.toLowerCase();
    await this.dataSource.manager.insert(DevMailEntity, {
      id,
      toAddress: to,
      subject: mail.subject,
      text: mail.text,
    });
    if (this.mailDir) {
      mkdirSync(this.mailDir, { recursive: true, mode: 0o700 });
      const eml = [
        `From: ${this.from}`,
        `To: ${to}`,
        `Subject: ${mail.subject}`,
        `Date: ${new Date().toUTCString()}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        mail.text.endsWith('\n') ? mail.text : `${mail.text}\n`,
      ].join('\n');
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      writeFileSync(join(this.mailDir, `${stamp}-${id}.eml`), eml, { mode: 0o600 });
    }
  }
}
