import { waitFor } from '../helpers/wait';
import { useApiStack } from '../helpers/api-stack';
import { buildMerchant } from '../../dev/fixtures';

/** Deposits through the public API, run by the real worker on the real Temporal dev server. */
describe('deposits through the API (real worker, Temporal dev server, Postgres)', () => {
  const stack = useApiStack('deposits-api');
  let customerId: string;

  beforeAll(async () => {
    customerId = ((await (await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} })).json()) as { id: string }).id;
  });

  const simulate = (body: Record<string, unknown>, key = stack.acme.test_key) =>
    stack.api.request('/api/v1/deposits/simulate', { method: 'POST', key, json: { customer_id: customerId, ...body } });
  const fetchDeposit = async (id: string) => (await (await stack.api.request(`/api/v1/deposits/${id}`, { key: stack.acme.test_key })).json()) as any;

  it('simulate → the deposit completes with the flat fee → the balance shows it → Temporal visibility finds it', async () => {
    const response = await simulate({ network: 'ethereum', currency: 'USDT', amount: '2000' });
    expect(response.status).toBe(200);
    const detected: any = await response.json();
    expect(detected).toMatchObject({
      id: expect.stringMatching(/^dep_/),
      object: 'deposit',
      livemode: false,
      customer_id: customerId,
      network: 'ethereum',
      currency: 'USDT',
      amount: '2000.000000',
      fee: null,
      net_amount: null,
      required_confirmations: 12,
      simulated: true,
      transaction_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      from_address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
    });
    expect(['detected', 'confirming']).toContain(detected.status);

    await waitFor('deposit completed', async () => (await fetchDeposit(detected.id)).status === 'completed');
    expect(await fetchDeposit(detected.id)).toMatchObject({
      status: 'completed',
      amount: '2000.000000',
      fee: '2.000000',
      net_amount: '1998.000000',
      amount_usd: '2000.00',
      fee_usd: '2.00',
      confirmations: 12,
      completed_at: expect.any(String),
    });

    const balance: any = await (await stack.api.request('/api/v1/balance', { key: stack.acme.test_key })).json();
    expect(balance).toEqual({
      object: 'balance',
      livemode: false,
      by_currency: [
        {
          network: 'ethereum',
          currency: 'USDT',
          total_received: '2000.000000',
          total_fees: '2.000000',
          net: '1998.000000',
          available: '1998.000000',
          pending: '0.000000',
          paid_out: '0.000000',
          deposit_count: 1,
        },
      ],
      total_received_usd: '2000.00',
      total_fees_usd: '2.00',
      net_usd: '1998.00',
    });
    const liveBalance: any = await (await stack.api.request('/api/v1/balance', { key: stack.acme.live_key })).json();
    expect(liveBalance).toMatchObject({ livemode: true, by_currency: [], net_usd: '0.00' });

    const query = `ObjectStatus = "completed" AND TxHash = "${detected.transaction_hash}" AND MerchantId = "${stack.acme.merchant_id}"`;
    await waitFor('visibility', async () => {
      for await (const execution of stack.dev.client.workflow.list({ query })) if (execution.workflowId.startsWith('deposit:test:ethereum:')) return true;
      return false;
    });
  });

  it('simulates a reorg with outcome "failed": the deposit fails and books nothing', async () => {
    const detected: any = await (await simulate({ network: 'tron', currency: 'TRX', amount: '5', outcome: 'failed' })).json();
    expect(detected.transaction_hash).toMatch(/^[0-9a-f]{64}$/);
    await waitFor('deposit failed', async () => (await fetchDeposit(detected.id)).status === 'failed');
    expect(await fetchDeposit(detected.id)).toMatchObject({ status: 'failed', failure_reason: 'reorg', fee: null });
    const balance: any = await (await stack.api.request('/api/v1/balance', { key: stack.acme.test_key })).json();
    expect(balance.by_currency.map((row: any) => row.network)).not.toContain('tron');
  });

  it('lists deposits newest first, with filters', async () => {
    const all: any = await (await stack.api.request('/api/v1/deposits', { key: stack.acme.test_key })).json();
    expect(all.data.map((deposit: any) => deposit.network)).toEqual(['tron', 'ethereum']);
    const failed: any = await (await stack.api.request('/api/v1/deposits?status=failed', { key: stack.acme.test_key })).json();
    expect(failed.data.map((deposit: any) => deposit.network)).toEqual(['tron']);
    const ethereum: any = await (await stack.api.request(`/api/v1/deposits?network=ethereum&customer_id=${customerId}`, { key: stack.acme.test_key })).json();
    expect(ethereum.data).toHaveLength(1);
    expect((await stack.api.request('/api/v1/deposits?status=lost', { key: stack.acme.test_key })).status).toBe(400);
    const other = await buildMerchant(stack.database.db, 'Other');
    const theirs: any = await (await stack.api.request('/api/v1/deposits', { key: other.test_key })).json();
    expect(theirs.data).toEqual([]);
    expect((await stack.api.request(`/api/v1/deposits/${all.data[0].id}`, { key: other.test_key })).status).toBe(404);
    expect((await stack.api.request(`/api/v1/deposits/${all.data[0].id}`, { key: stack.acme.live_key })).status).toBe(404);
  });

  it('keeps no Idempotency-Key of a request that failed after claiming it, so it can be retried', async () => {
    const key = 'simulate-after-404';
    const body = { network: 'ethereum', currency: 'USDC', amount: '1' };
    const failed = await stack.api.request('/api/v1/deposits/simulate', {
      method: 'POST',
      key: stack.acme.test_key,
      headers: { 'Idempotency-Key': key },
      json: { ...body, customer_id: 'cus_00000000000000000000000000' },
    });
    expect(failed.status).toBe(404);
    expect(await stack.database.db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute()).toEqual([]);
    const retried = await stack.api.request('/api/v1/deposits/simulate', {
      method: 'POST',
      key: stack.acme.test_key,
      headers: { 'Idempotency-Key': key },
      json: { ...body, customer_id: customerId },
    });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    const replayed = await stack.api.request('/api/v1/deposits/simulate', {
      method: 'POST',
      key: stack.acme.test_key,
      headers: { 'Idempotency-Key': key },
      json: { ...body, customer_id: customerId },
    });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replayed.json()) as { id: string }).id).toBe(((await retried.json()) as { id: string }).id);
  });

  describe('bad input to simulate', () => {
    it('is a 403 with a live key', async () => {
      const response = await simulate({ network: 'ethereum', currency: 'USDT', amount: '1' }, stack.acme.live_key);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { type: 'permission_error' } });
    });

    it('is a 404 for an unknown customer', async () => {
      const response = await simulate({ customer_id: 'cus_00000000000000000000000000', network: 'ethereum', currency: 'USDT', amount: '1' });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'resource_missing', param: 'customer_id' } });
    });

    it.each([
      [{ network: 'tron', currency: 'USDC', amount: '1' }, 'currency'],
      [{ network: 'bitcoin', currency: 'BTC', amount: '1' }, 'network'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1e3' }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: '-5' }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: '0' }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: '0.1234567' }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: `1${'0'.repeat(77)}` }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: 5 }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: ' 5' }, 'amount'],
      [{ network: 'ethereum', currency: 'USDT', amount: '5', outcome: 'maybe' }, 'outcome'],
      [{ network: 'ethereum', currency: 'USDT', amount: '5', fee: '0' }, 'fee'],
    ])('is a 400 naming the field for %j, and starts nothing', async (body, param) => {
      const before = await stack.database.db
        .selectFrom('deposits')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      const response = await simulate(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
      const after = await stack.database.db
        .selectFrom('deposits')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      expect(after.count).toBe(before.count);
    });
  });
});
