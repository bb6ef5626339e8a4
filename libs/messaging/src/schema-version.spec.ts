import { Logger } from '@nestjs/common';
import { MESSAGE_SCHEMA_VERSION } from '@atrium/contracts';
import {
  noteSchemaVersion,
  resetSchemaVersionNotes,
  schemaVersionHeaders,
  SCHEMA_VERSION_HEADER,
} from './schema-version';

describe('schema versions of arriving messages', () => {
  let log: jest.SpyInstance;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    resetSchemaVersionNotes();
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('says nothing of the current major or of messages without a version', () => {
    noteSchemaVersion('event', 'account.created', MESSAGE_SCHEMA_VERSION);
    noteSchemaVersion('event', 'account.created', '1.7');
    noteSchemaVersion('RPC', 'identity.users.get', undefined);
    expect(log).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });

  it('logs the next major once per message and version, and warns once beyond the window', () => {
    for (let i = 0; i < 3; i++) noteSchemaVersion('event', 'account.created', '2.0');
    noteSchemaVersion('event', 'resource.created', '2.0');
    expect(log).toHaveBeenCalledTimes(2);
    expect(log.mock.calls[0][0]).toContain('Reading event account.created of schema 2.0');
    for (let i = 0; i < 3; i++) noteSchemaVersion('RPC', 'identity.users.get', '3.1');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('identity.users.get has schema 3.1, more than one major');
  });

  it('sends the current version on every RPC request', () => {
    expect(schemaVersionHeaders()).toEqual({ [SCHEMA_VERSION_HEADER]: MESSAGE_SCHEMA_VERSION });
  });
});
