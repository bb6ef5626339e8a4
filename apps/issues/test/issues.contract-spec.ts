import { IssuesRpc } from '@atrium/contracts';
import {
  ContractHarness,
  expectEveryRouteValidated,
  startContractHarness,
  testServiceConfig,
} from '@atrium/testing';
import { DataSource } from 'typeorm';
import { IssuesModule } from '../src/issues.module';

describe('issues message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;

  beforeAll(async () => {
    h = await startContractHarness('issues', (url) => IssuesModule.forRoot(testServiceConfig(url)));
  });
  afterAll(() => h.close());

  it('validates the payload of every pattern it defines', () => expectEveryRouteValidated(h, 'issues'));

  it('migrates its own schema and answers health', async () => {
    expect(await h.rpc.call(IssuesRpc.health, {})).toEqual({ service: 'issues', ok: true });
    const tables = await h.app
      .get(DataSource)
      .query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'issues' ORDER BY table_name`,
      );
    expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual([
      'issues_migrations',
      'outbox_message',
      'processed_message',
    ]);
  });
});
