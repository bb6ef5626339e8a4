import { ArgumentsHost } from '@nestjs/common';
import { SerializedAppError } from '@atrium/contracts';
import { firstValueFrom } from 'rxjs';
import { QueryFailedError } from 'typeorm';
import { RpcErrorFilter } from './rpc-error.filter';

const answer = (exception: unknown): Promise<SerializedAppError> =>
  firstValueFrom(new RpcErrorFilter().catch(exception, {} as ArgumentsHost)).then(
    () => {
      throw new Error('expected an error');
    },
    (err: SerializedAppError) => err,
  );

describe('RpcErrorFilter', () => {
  // Found by the reliability tier (issue 8, item 8): PostgreSQL's connections cut under load.
  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Client has encountered a connection error and is not queryable',
    'timeout exceeded when trying to connect',
  ])('answers a lost database connection (%s) with service-unavailable', async (message) => {
    const lost = new QueryFailedError('START TRANSACTION', [], new Error(message));
    expect(await answer(lost)).toEqual({
      type: 'service-unavailable',
      message: 'The database is unavailable; try again',
    });
  });

  it('answers any other failure with internal-error, without its details', async () => {
    expect(await answer(new Error('Connection to the moon lost'))).toEqual({
      type: 'internal-error',
      message: 'Internal error',
    });
  });

  // Found by the outside attack pass: PostgreSQL's own wording reached the caller.
  it('answers a NUL character in text as invalid input, in plain words', async () => {
    const nul = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
    });
    expect(await answer(new QueryFailedError('INSERT', [], nul))).toEqual({
      type: 'invalid-input',
      message: 'Text may not contain the NUL character (\\u0000)',
    });
  });
});
