import { ServiceError } from '@temporalio/client';
import { unavailableDependency } from '../../src/api/middleware/errors';
import { AuthenticationError, InvalidRequestError, ResourceMissingError } from '../../src/domain/errors';

describe('contract errors', () => {
  it('serialise to the error shape of API.md, with param only when there is one', () => {
    expect(new InvalidRequestError('email is not an email', 'email').toJSON()).toEqual({
      error: { type: 'invalid_request_error', code: 'parameter_invalid', message: 'email is not an email', param: 'email' },
    });
    expect(new AuthenticationError('no').toJSON()).toEqual({ error: { type: 'authentication_error', code: 'api_key_invalid', message: 'no' } });
    expect(new ResourceMissingError('gone').status).toBe(404);
  });
});

describe('unavailableDependency', () => {
  const withCode = (code: string | number, extra: Record<string, unknown> = {}) => Object.assign(new Error('boom'), { code, ...extra });

  it.each([
    [withCode('ECONNREFUSED'), 'Postgres'],
    [withCode('57P01'), 'Postgres'],
    [withCode('08006'), 'Postgres'],
    [new Error('timeout exceeded when trying to connect'), 'Postgres'],
    // The next statement on a connection Postgres dropped mid-transaction (found by the chaos suite).
    [new Error('Client has encountered a connection error and is not queryable'), 'Postgres'],
    [new AggregateError([withCode('ECONNREFUSED')]), 'Postgres'],
    [withCode(14, { details: 'unavailable', metadata: {} }), 'Temporal'],
    [new ServiceError('failed', { cause: withCode(4, { details: 'deadline', metadata: {} }) }), 'Temporal'],
  ])('names the dependency that is down: %s', (error, dependency) => {
    expect(unavailableDependency(error)).toBe(dependency);
  });

  it.each([[withCode('23505')], [withCode(3, { details: 'invalid argument', metadata: {} })], [new Error('bug')], ['text'], [null]])(
    'does not blame a dependency for other errors: %s',
    (error) => {
      expect(unavailableDependency(error)).toBeUndefined();
    },
  );
});
