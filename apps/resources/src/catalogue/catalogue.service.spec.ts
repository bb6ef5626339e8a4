import { AppError } from '@atrium/contracts';
import { EntityManager } from 'typeorm';
import { RequestQueueEntity } from '../request-queues/request-queue.entity';
import { CatalogueService } from './catalogue.service';

// Found by the outside attack pass (issue 18, eighth): a request queue read while it was being
// deleted found its catalogue row, then not its own row, and answered 500.
describe('CatalogueService.loadRow', () => {
  const catalogue = new CatalogueService(
    ...([undefined, undefined, undefined] as unknown as [never, never, never]),
  );
  const manager = (row: object | null) =>
    ({
      findOne: async () => ({ id: 'q1', type: 'REQUEST_QUEUE' }),
      findOneBy: async () => row,
    }) as unknown as EntityManager;

  it("answers 404 when the type's row was deleted after the catalogue row was read", async () => {
    const loading = catalogue.loadRow(manager(null), 'REQUEST_QUEUE', RequestQueueEntity, 'q1');
    await expect(loading).rejects.toBeInstanceOf(AppError);
    await expect(loading).rejects.toMatchObject({ type: 'record-not-found' });
  });

  it('returns both rows when both are there', async () => {
    const row = await catalogue.loadRow(manager({ id: 'q1' }), 'REQUEST_QUEUE', RequestQueueEntity, 'q1');
    expect(row).toEqual({ resource: { id: 'q1', type: 'REQUEST_QUEUE' }, state: { id: 'q1' } });
  });
});
