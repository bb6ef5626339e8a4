import { QueueClient } from '@atrium/contracts';
import { EntityManager } from 'typeorm';

/**
 * The key a caller counts as for `hadMultipleClients`: its `clientKey`, else its run, else ''
 * (Apify: a call without a `clientKey` comes from a new client each time).
 */
export function clientIdentity(client: QueueClient): string {
  return client.clientKey ?? client.runId ?? '';
}

/**
 * Notes a client of the queue in PostgreSQL, so every replica agrees: the first one is kept; any
 * other (or any anonymous one after the first) sets `had_multiple_clients` for good. The UPDATE
 * matches, and so writes and locks the queue's row, only on the first call and on that change:
 * the same client calling again takes no lock.
 */
export async function recordQueueClient(
  manager: EntityManager,
  queueId: string,
  client: QueueClient,
): Promise<void> {
  await manager.query(
    `UPDATE resources.request_queue
        SET had_multiple_clients = client_key IS NOT NULL,
            client_key = COALESCE(client_key, $2)
      WHERE id = $1 AND NOT had_multiple_clients
        AND (client_key IS NULL OR client_key = '' OR $2 = '' OR client_key <> $2)`,
    [queueId, clientIdentity(client)],
  );
}
