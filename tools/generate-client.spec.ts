import { readFileSync } from 'node:fs';
import { clientSchemaSource, CLIENT_SCHEMA_PATH } from './generate-client';

describe('the typed client', () => {
  it('is generated from the OpenAPI document the gateway serves now (else: npm run client:generate)', async () => {
    expect(readFileSync(CLIENT_SCHEMA_PATH, 'utf8') === (await clientSchemaSource())).toBe(true);
  });
});
