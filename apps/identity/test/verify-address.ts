import { IdentityRpc } from '@atrium/contracts';
import { ContractHarness, testSqlPool } from '@atrium/testing';

/**
 * Verifies an address with the token of its latest verification mail in the dev mailbox, as only
 * a verified address may answer an invitation sent to it.
 */
export async function verifyAddress(h: ContractHarness, email: string): Promise<void> {
  const sql = testSqlPool(h.db.url);
  const { rows } = await sql.query<{ text: string }>(
    `SELECT text FROM identity.dev_mail WHERE to_address = $1 AND subject LIKE 'Verify%'
      ORDER BY created_at DESC LIMIT 1`,
    [email],
  );
  await sql.end();
  await h.rpc.call(IdentityRpc.verifyEmail, { token: /token: (\S+)/.exec(rows[0].text)![1] });
}
