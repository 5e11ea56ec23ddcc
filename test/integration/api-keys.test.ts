import { MAX_WORKING_KEYS } from '../../src/api-keys/api-keys.service';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { findSigningKey } from '../../src/api-keys/api-keys.repository';
import { unsealApiKey } from '../../src/merchants/sealed-keys';
import { VerifiedKeys } from '../../src/api-keys/verified-keys';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { buildMerchant, testSecretKey } from '../../dev/fixtures';

const HOUR_MS = 60 * 60 * 1000;

describe('API keys (real app and Postgres; the clock is injected so a grace period can pass)', () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let now = new Date('2026-11-23T12:00:00Z');

  beforeAll(async () => {
    stack = await startTestStack('api-keys', { worker: false, api: { clock: () => now } });
    ({ database, api } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  const call = async (key: string, method: string, path: string, json?: unknown) => {
    const response = await api.request(`/api/v1${path}`, { method, key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const create = (key: string, json: unknown) => call(key, 'POST', '/api-keys', json);

  let merchant: CreatedMerchant;
  beforeEach(async () => {
    now = new Date('2026-11-23T12:00:00Z');
    merchant = await buildMerchant(database.db, 'Acme');
  });

  it('GET /account says which merchant, mode and key a key is, to any key whatever its permissions', async () => {
    const other = await buildMerchant(database.db, 'Someone Else');
    const narrow = await create(merchant.test_key, { name: 'Orders only', permissions: { orders: 'read' } });
    // A key with no permission on anything but orders may still ask who it is.
    const asked = await call(narrow.body.secret, 'GET', '/account');
    expect(asked).toEqual({
      status: 200,
      body: {
        object: 'account',
        id: merchant.merchant_id,
        name: 'Acme',
        livemode: false,
        mode: 'test',
        api_key: { ...narrow.body, secret: undefined },
        display_name: null,
        logo: null,
      },
    });
    expect(asked.body.api_key).not.toHaveProperty('secret');
    // Each merchant's and each mode's key answers for itself.
    expect((await call(other.test_key, 'GET', '/account')).body).toMatchObject({ id: other.merchant_id, name: 'Someone Else', mode: 'test' });
    expect((await call(merchant.live_key, 'GET', '/account')).body).toMatchObject({ id: merchant.merchant_id, livemode: true, mode: 'live' });
    expect((await call('sk_test_' + 'x'.repeat(43), 'GET', '/account')).status).toBe(401);
  });

  it('creates a key shown once, lists keys without secrets, and the new key works with what it was granted', async () => {
    const created = await create(merchant.test_key, { name: 'Reporting', permissions: { customers: 'read', balance: 'read' } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^key_/),
      object: 'api_key',
      livemode: false,
      name: 'Reporting',
      redacted: expect.stringMatching(/^sk_test_…/),
      permissions: { customers: 'read', balance: 'read' },
      created_at: expect.any(String),
      expires_at: null,
      rolled_to: null,
      secret: expect.stringMatching(/^sk_test_[0-9A-Za-z]{43}$/),
    });
    const listed = await call(merchant.test_key, 'GET', '/api-keys');
    expect(listed.body.data.map((key: { name: string }) => key.name)).toEqual(['Reporting', 'Default key']);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    expect(listed.body.data.every((key: object) => !('secret' in key))).toBe(true);
    // The live key is another mode's: not listed here.
    expect(listed.body.data).toHaveLength(2);

    const restricted = created.body.secret as string;
    expect((await call(restricted, 'GET', '/customers')).status).toBe(200);
    expect((await call(restricted, 'GET', '/balance')).status).toBe(200);
    const write = await call(restricted, 'POST', '/customers', {});
    expect(write.status).toBe(403);
    expect(write.body.error).toMatchObject({ type: 'permission_error', code: 'api_key_permission_denied' });
    expect(write.body.error.message).toContain('write customers');
    const unlisted = await call(restricted, 'GET', '/deposits');
    expect(unlisted.status).toBe(403);
    expect(unlisted.body.error.code).toBe('api_key_permission_denied');
    // Nothing was written by the refused call.
    expect(await database.db.selectFrom('customers').select('id').where('merchant_id', '=', merchant.merchant_id).execute()).toEqual([]);
  });

  it('a read_only key reads everything and writes nothing, not even keys', async () => {
    const { body } = await create(merchant.test_key, { name: 'Support', permissions: 'read_only' });
    const readOnly = body.secret as string;
    for (const path of ['/customers', '/deposits', '/balance', '/orders', '/events', '/webhook-endpoints', '/api-keys', '/requests']) {
      expect([path, (await call(readOnly, 'GET', path)).status]).toEqual([path, 200]);
    }
    const refused = await create(readOnly, { name: 'Escalate', permissions: 'read_only' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('api_key_permission_denied');
  });

  it('never makes or manages a key with more permissions than the calling key', async () => {
    const { body: manager } = await create(merchant.test_key, { name: 'Key manager', permissions: { api_keys: 'write', customers: 'read' } });
    const exceeding = await create(manager.secret, { name: 'Wider', permissions: { api_keys: 'write', customers: 'write' } });
    expect(exceeding.status).toBe(403);
    expect(exceeding.body.error).toMatchObject({ code: 'api_key_permission_exceeded', param: 'permissions' });
    expect(exceeding.body.error.message).toContain('customers: read');
    expect((await create(manager.secret, { name: 'Full', permissions: 'full' })).status).toBe(403);
    expect((await create(manager.secret, { name: 'Narrower', permissions: { customers: 'read' } })).status).toBe(200);

    const [fullKey] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data.filter((key: { name: string }) => key.name === 'Default key');
    const roll = await call(manager.secret, 'POST', `/api-keys/${fullKey.id}/roll`, {});
    expect(roll.status).toBe(403);
    expect(roll.body.error.code).toBe('api_key_permission_exceeded');
    expect((await call(manager.secret, 'DELETE', `/api-keys/${fullKey.id}`)).status).toBe(403);
  });

  it('rolls a key: the new one works at once, the old one until its grace period ends, and signs callbacks until then', async () => {
    const [old] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const rolled = await call(merchant.test_key, 'POST', `/api-keys/${old.id}/roll`, { expires_in: 24 * 60 * 60 });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ name: old.name, permissions: 'full', secret: expect.stringMatching(/^sk_test_/), expires_at: null });
    const successor = rolled.body.secret as string;

    const oldNow = (await call(merchant.test_key, 'GET', `/api-keys/${old.id}`)).body;
    expect(oldNow).toMatchObject({ rolled_to: rolled.body.id, expires_at: '2026-11-24T12:00:00.000Z' });
    const signingKeyAt = async (at: Date) => {
      const signing = await findSigningKey(database.db, { merchantId: merchant.merchant_id, livemode: false }, at);
      return unsealApiKey(signing!.sealed_key, testSecretKey, signing!.id);
    };
    // Callbacks keep the key the merchant verifies with through the grace period; another full key changes nothing.
    expect(await signingKeyAt(now)).toBe(merchant.test_key);
    expect((await create(successor, { name: 'CI', permissions: 'full' })).status).toBe(200);
    expect(await signingKeyAt(now)).toBe(merchant.test_key);

    now = new Date(now.getTime() + 23 * HOUR_MS);
    expect((await call(merchant.test_key, 'GET', '/balance')).status).toBe(200);
    now = new Date(now.getTime() + 2 * HOUR_MS);
    const expired = await call(merchant.test_key, 'GET', '/balance');
    expect(expired.status).toBe(401);
    expect((await call(successor, 'GET', '/balance')).status).toBe(200);
    expect(await signingKeyAt(now)).toBe(successor);
    // Expired, the old key is gone: not listed, and nothing more can be done with it.
    const listed = (await call(successor, 'GET', '/api-keys')).body.data.map((key: { id: string }) => key.id);
    expect(listed).not.toContain(old.id);
    expect(listed).toContain(rolled.body.id);
    expect((await call(successor, 'POST', `/api-keys/${old.id}/roll`, {})).status).toBe(404);
  });

  it('refuses to roll a key twice while the first roll is in its grace period', async () => {
    const [old] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const first = await call(merchant.test_key, 'POST', `/api-keys/${old.id}/roll`, { expires_in: 3600 });
    const again = await call(first.body.secret, 'POST', `/api-keys/${old.id}/roll`, {});
    // A state the key will not leave: a conflict, not a malformed request.
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ type: 'invalid_request_error', code: 'api_key_already_rolled' });
    expect(again.body.error.message).toContain(first.body.id);
  });

  it('keeps a mode to 50 working keys, since rate limits are per key', async () => {
    for (let made = 1; made < MAX_WORKING_KEYS; made++)
      expect((await create(merchant.test_key, { name: `Key ${made}`, permissions: 'read_only' })).status).toBe(200);
    const refused = await create(merchant.test_key, { name: 'One too many', permissions: 'read_only' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('api_key_limit_reached');
    // The live mode's keys are counted apart.
    expect((await create(merchant.live_key, { name: 'Live', permissions: 'read_only' })).status).toBe(200);
  });

  it('rolls with no grace period by default: the old key stops at once', async () => {
    const [old] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const rolled = await call(merchant.test_key, 'POST', `/api-keys/${old.id}/roll`, {});
    expect(rolled.status).toBe(200);
    expect((await call(merchant.test_key, 'GET', '/balance')).status).toBe(401);
    expect((await call(rolled.body.secret, 'GET', '/balance')).status).toBe(200);
  });

  it('refuses a grace period over 7 days, and unknown fields, naming the param', async () => {
    const [old] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const tooLong = await call(merchant.test_key, 'POST', `/api-keys/${old.id}/roll`, { expires_in: 7 * 24 * 60 * 60 + 1 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.param).toBe('expires_in');
    const badPermissions = await create(merchant.test_key, { name: 'x', permissions: { customers: 'admin' } });
    expect(badPermissions.status).toBe(400);
    expect(badPermissions.body.error.param).toBe('permissions');
    const unknownResource = await create(merchant.test_key, { name: 'x', permissions: { ledgers: 'read' } });
    expect(unknownResource.status).toBe(400);
    const missingName = await create(merchant.test_key, { permissions: 'full' });
    expect(missingName.body.error).toMatchObject({ code: 'parameter_missing', param: 'name' });
  });

  it('deletes a key at once, refuses the last full key, and answers 404 for a deleted or unknown key', async () => {
    const [defaultKey] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const last = await call(merchant.test_key, 'DELETE', `/api-keys/${defaultKey.id}`);
    expect(last.status).toBe(400);
    expect(last.body.error.code).toBe('last_full_key');

    const { body: second } = await create(merchant.test_key, { name: 'Second full', permissions: 'full' });
    const deleted = await call(second.secret, 'DELETE', `/api-keys/${defaultKey.id}`);
    expect(deleted).toEqual({ status: 200, body: { id: defaultKey.id, object: 'api_key', deleted: true } });
    expect((await call(merchant.test_key, 'GET', '/balance')).status).toBe(401);

    const rollDeleted = await call(second.secret, 'POST', `/api-keys/${defaultKey.id}/roll`, {});
    expect(rollDeleted.status).toBe(404);
    expect(rollDeleted.body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
    // Another merchant's key is as missing as a deleted one.
    const other = await buildMerchant(database.db, 'Globex');
    const [otherKey] = (await call(other.test_key, 'GET', '/api-keys')).body.data;
    expect((await call(second.secret, 'DELETE', `/api-keys/${otherKey.id}`)).status).toBe(404);
    expect((await call(second.secret, 'GET', `/api-keys/${otherKey.id}`)).status).toBe(404);
  });

  it('a key deleted through another API process works there for at most a second more (the keys it verified lately), then never', async () => {
    // A second API process on the same database, whose verified keys run on a clock of the test's.
    let elapsedMs = 0;
    const other = await startTestApi({ db: database.db, temporal: stack.dev.client, clock: () => now, verifiedKeys: new VerifiedKeys(1_000, () => elapsedMs) });
    try {
      const { body: second } = await create(merchant.test_key, { name: 'Second full', permissions: 'full' });
      const read = async () => (await other.request('/api/v1/balance', { key: second.secret })).status;
      expect(await read()).toBe(200);
      expect((await call(merchant.test_key, 'DELETE', `/api-keys/${second.id}`)).status).toBe(200);
      // Refused at once by the process that deleted it; taken on trust by the other for the second it verified it in.
      expect((await call(second.secret, 'GET', '/balance')).status).toBe(401);
      elapsedMs = 999;
      expect(await read()).toBe(200);
      elapsedMs = 1_000;
      expect(await read()).toBe(401);
      // Looked up again, and refused again: a refused key is never kept.
      expect(await read()).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('a rolled full key in its grace period does not count as the lasting full key', async () => {
    const [old] = (await call(merchant.test_key, 'GET', '/api-keys')).body.data;
    const rolled = await call(merchant.test_key, 'POST', `/api-keys/${old.id}/roll`, { expires_in: 3600 });
    const refused = await call(merchant.test_key, 'DELETE', `/api-keys/${rolled.body.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('last_full_key');
    // The old one may go early.
    expect((await call(rolled.body.secret, 'DELETE', `/api-keys/${old.id}`)).status).toBe(200);
  });
});
