import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A mail kept in the dev mailbox instead of sent (no SMTP_URL: the embedded mode and tests). Only
 * the operator reads it — from the database or from MAIL_DIR — never through the API.
 */
@Entity('dev_mail')
@Index('dev_mail_to_idx', ['toAddress', 'createdAt'])
export class DevMailEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  toAddress: string;

  @Column({ type: 'varchar', length: 300 })
  subject: string;

  @Column({ type: 'text' })
  text: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
