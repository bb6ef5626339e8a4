import { loadConfig } from './load-config';
import {
  gatewayConfigSchema,
  identityConfigSchema,
  resourcesConfigSchema,
  serviceConfigSchema,
  servicesConfigSchema,
} from './service-configs';

const DATABASE_URL = 'postgres://atrium@127.0.0.1:5432/atrium';
const JWT_SECRET = 'x'.repeat(32);

describe('configuration per service', () => {
  it('asks JWT_SECRET only of the processes that sign or verify tokens', () => {
    expect(loadConfig(serviceConfigSchema, { DATABASE_URL })).not.toHaveProperty('JWT_SECRET');
    expect(loadConfig(resourcesConfigSchema, { DATABASE_URL })).not.toHaveProperty('JWT_SECRET');
    expect(() => loadConfig(identityConfigSchema, { DATABASE_URL })).toThrow('JWT_SECRET');
    expect(() => loadConfig(gatewayConfigSchema, {})).toThrow('JWT_SECRET');
    expect(loadConfig(gatewayConfigSchema, { JWT_SECRET })).not.toHaveProperty('DATABASE_URL');
  });

  it('keeps to each service what it reads', () => {
    const identity = loadConfig(identityConfigSchema, {
      DATABASE_URL,
      JWT_SECRET,
      QUOTA_MAX_STORAGE_BYTES: '1',
    });
    expect(identity).toHaveProperty('MAIL_FROM');
    expect(identity).not.toHaveProperty('QUOTA_MAX_STORAGE_BYTES');
    const resources = loadConfig(resourcesConfigSchema, { DATABASE_URL, MAIL_FROM: 'someone' });
    expect(resources.QUOTA_MAX_STORAGE_BYTES).toBe(10 * 1024 ** 3);
    expect(resources).not.toHaveProperty('MAIL_FROM');
  });

  it("reads every service's part in one process", () => {
    const all = loadConfig(servicesConfigSchema, { DATABASE_URL, JWT_SECRET, WEBHOOK_MAX_ATTEMPTS: '2' });
    expect(all).toMatchObject({ JWT_SECRET, WEBHOOK_MAX_ATTEMPTS: 2, RUN_MIGRATIONS: true });
  });
});
