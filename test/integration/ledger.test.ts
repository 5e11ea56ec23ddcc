/**
 * The ledger as a list (docs/api.md, "Balance transactions"): `GET /balance/transactions`, one by
 * id, and its CSV export. Real app and Postgres, no worker: deposits are made through the API and
 * completed or reversed by the transitions the worker's activities run (deposits/transitions.ts),
 * so the ledger rows are the ones the gateway books.
 */
import { buildMerchant } from '../../dev/fixtures';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { completeDeposit, reverseDeposit } from '../../src/deposits/transitions';
import { newId } from '../../src/domain/ids';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';

type Transaction = {
  id: string;
  object: string;
  type: string;
  deposit_id: string;
  livemode: boolean;
  network: string;
  currency: string;
  amount: string;
  fee: string;
  net: string;
  amount_usd: string;
  fee_usd: string;
  net_usd: string;
  created_at: string;
};

/** RFC 4180 as the export writes it; no field here holds a comma, a quote or a line break. */
const parseCsv = (text: string) => {
  expect(text.endsWith('\r\n')).toBe(true);
  const [header, ...rows] = text.slice(0, -2).split('\r\n');
  const columns = header!.split(',');
  return { columns, rows: rows.map((row) => Object.fromEntries(row.split(',').map((value, index) => [columns[index], value]))) };
};

/** A list item as the CSV shows it: every field as text, null as nothing. */
const asCsvRow = (transaction: Transaction, columns: string[]) =>
  Object.fromEntries(columns.map((column) => [column, String(transaction[column as keyof Transaction] ?? '')]));

describe('balance transactions (real app and Postgres)', () => {
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;
  let other: CreatedMerchant;
  /** Acme's test-mode deposits: a small one completed, a huge one completed, one completed then reversed. */
  const deposits: Record<'small' | 'huge' | 'reversed' | 'tron', { id: string }> = {} as never;
  let liveDepositId: string;
  let otherDepositId: string;

  beforeAll(async () => {
    stack = await startTestStack('ledger', { worker: false });
    api = stack.api;
    const db = stack.database.db;
    acme = await buildMerchant(db, 'Ledger Acme');
    other = await buildMerchant(db, 'Ledger Other');

    const simulate = async (key: string, body: Record<string, unknown>) => {
      const response = await api.request('/api/v1/deposits/simulate', { method: 'POST', key, json: body });
      expect(response.status).toBe(200);
      return (await response.json()) as { id: string };
    };
    const customer = async (key: string) => {
      const response = await api.request('/api/v1/customers', { method: 'POST', key, json: {} });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id: string }).id;
    };
    const acmeCustomer = await customer(acme.test_key);
    const pay = (amount: string, network = 'ethereum', currency = 'USDT') => simulate(acme.test_key, { customer_id: acmeCustomer, network, currency, amount });
    deposits.small = await pay('25.5');
    // 10^30 base units of a 6-decimal token: far beyond a double's exact range.
    deposits.huge = await pay('1000000000000000000000000');
    deposits.reversed = await pay('7');
    deposits.tron = await pay('3', 'tron', 'TRX');
    for (const deposit of Object.values(deposits)) await completeDeposit(db, deposit.id, { confirmations: 12, priceUsd: '1.00' });
    await reverseDeposit(db, deposits.reversed.id);

    otherDepositId = (await simulate(other.test_key, { customer_id: await customer(other.test_key), network: 'ethereum', currency: 'USDT', amount: '9' })).id;
    await completeDeposit(db, otherDepositId, { confirmations: 12, priceUsd: '1.00' });

    // Acme's live mode: simulate is test-only, so a live deposit is recorded as the chain watcher would, then completed.
    const template = await db.selectFrom('deposits').selectAll().where('id', '=', deposits.small.id).executeTakeFirstOrThrow();
    liveDepositId = newId('deposit');
    await db
      .insertInto('deposits')
      .values({
        ...template,
        id: liveDepositId,
        livemode: true,
        customer_id: await customer(acme.live_key),
        transaction_hash: `0x${'1'.repeat(64)}`,
        status: 'confirming',
        fee: null,
        net_amount: null,
        amount_usd_cents: null,
        fee_usd_cents: null,
        price_usd: null,
        completed_at: null,
        created_at: undefined,
        updated_at: undefined,
      })
      .execute();
    await completeDeposit(db, liveDepositId, { confirmations: 12, priceUsd: '1.00' });
  });

  afterAll(async () => {
    await stack?.stop();
    if (stack) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack?.database.destroy();
  });

  const get = async (path: string, key = acme.test_key) => {
    const response = await api.request(`/api/v1${path}`, { key });
    return { status: response.status, body: (await response.json()) as any };
  };
  const list = async (query = '', key = acme.test_key): Promise<Transaction[]> => {
    const answer = await get(`/balance/transactions?limit=100${query}`, key);
    expect(answer.status).toBe(200);
    expect(answer.body.has_more).toBe(false);
    return answer.body.data;
  };
  const exportCsv = async (query = '', key = acme.test_key) => {
    const response = await api.request(`/api/v1/balance/transactions/export${query ? `?${query}` : ''}`, { key });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return { disposition: response.headers.get('content-disposition'), ...parseCsv(await response.text()) };
  };
  const byIdDesc = (transactions: Transaction[]) => [...transactions].sort((a, b) => (a.id < b.id ? 1 : -1));

  it('lists one balance transaction per booking, newest first, a reversal negative, amounts exact', async () => {
    const all = await list();
    expect(all).toHaveLength(5);
    expect(all.map((transaction) => transaction.id)).toEqual(byIdDesc(all).map((transaction) => transaction.id));
    const of = (depositId: string, type: string) => all.find((transaction) => transaction.deposit_id === depositId && transaction.type === type)!;

    expect(of(deposits.small.id, 'deposit')).toEqual({
      id: expect.stringMatching(/^ltx_[0-9a-hjkmnp-tv-z]{26}$/),
      object: 'balance_transaction',
      type: 'deposit',
      deposit_id: deposits.small.id,
      payout_id: null,
      livemode: false,
      network: 'ethereum',
      currency: 'USDT',
      amount: '25.500000',
      fee: '2.000000',
      net: '23.500000',
      amount_usd: '25.50',
      fee_usd: '2.00',
      net_usd: '23.50',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(of(deposits.huge.id, 'deposit')).toMatchObject({
      amount: '1000000000000000000000000.000000',
      fee: '2.000000',
      net: '999999999999999999999998.000000',
      amount_usd: '1000000000000000000000000.00',
      net_usd: '999999999999999999999998.00',
    });
    expect(of(deposits.reversed.id, 'deposit')).toMatchObject({ amount: '7.000000', fee: '2.000000', net: '5.000000' });
    expect(of(deposits.reversed.id, 'reversal')).toMatchObject({
      amount: '-7.000000',
      fee: '-2.000000',
      net: '-5.000000',
      amount_usd: '-7.00',
      fee_usd: '-2.00',
      net_usd: '-5.00',
    });
    expect(of(deposits.tron.id, 'deposit')).toMatchObject({ network: 'tron', currency: 'TRX', amount: '3.000000' });

    // One by id, as the list shows it.
    const reversal = of(deposits.reversed.id, 'reversal');
    expect(await get(`/balance/transactions/${reversal.id}`)).toEqual({ status: 200, body: reversal });

    // The balance is the sum of the list: the reversal takes the reversed deposit out again.
    const balance = (await get('/balance')).body;
    const usdt = balance.by_currency.find((row: { network: string; currency: string }) => row.network === 'ethereum' && row.currency === 'USDT');
    expect(usdt).toMatchObject({ total_received: '1000000000000000000000025.500000', total_fees: '4.000000', deposit_count: 2 });
  });

  it('pages with limit and starting_after, as every list', async () => {
    const all = await list();
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await get(`/balance/transactions?limit=2${after ? `&starting_after=${after}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((transaction: Transaction) => transaction.id));
      if (!page.body.has_more) break;
      after = page.body.data.at(-1).id;
    }
    expect(seen).toEqual(all.map((transaction) => transaction.id));
  });

  it('filters by deposit, type, network, currency and creation time', async () => {
    const all = await list();
    const ids = (transactions: Transaction[]) => transactions.map((transaction) => transaction.id);
    const where = (keep: (transaction: Transaction) => boolean) => ids(all.filter(keep));

    const ofReversed = await list(`&deposit_id=${deposits.reversed.id}`);
    expect(ofReversed.map((transaction) => transaction.type).sort()).toEqual(['deposit', 'reversal']);
    expect(ids(await list('&type=reversal'))).toEqual(where((transaction) => transaction.type === 'reversal'));
    expect(ids(await list('&type=deposit'))).toEqual(where((transaction) => transaction.type === 'deposit'));
    expect(ids(await list('&network=tron'))).toEqual(where((transaction) => transaction.network === 'tron'));
    expect(ids(await list('&currency=USDT&type=deposit'))).toEqual(where((transaction) => transaction.currency === 'USDT' && transaction.type === 'deposit'));
    expect(await list('&network=polygon')).toEqual([]);

    // created[gte] inclusive, created[lt] exclusive, on the booking time the list shows.
    const oldest = all.at(-1)!;
    expect(ids(await list(`&created[lt]=${oldest.created_at}`))).toEqual([]);
    expect(ids(await list(`&created[gte]=${oldest.created_at}`))).toEqual(ids(all));
    expect(await list('&created[gte]=2999-01-01T00:00:00Z')).toEqual([]);

    // A client's mistake is a 400 naming the parameter, never a 500.
    expect(await get('/balance/transactions?type=refund')).toMatchObject({ status: 400, body: { error: { param: 'type' } } });
    expect(await get('/balance/transactions?currency=DOGE')).toMatchObject({ status: 400, body: { error: { param: 'currency' } } });
    expect(await get('/balance/transactions?deposit_id=dep_x')).toMatchObject({ status: 400, body: { error: { param: 'deposit_id' } } });
    expect(await get('/balance/transactions/ltx_nope')).toMatchObject({ status: 400, body: { error: { param: 'id' } } });
  });

  it("keeps tenants apart: another merchant's and the other mode's transactions never appear, nor answer by id", async () => {
    const acmeTest = await list();
    const acmeLive = await list('', acme.live_key);
    const otherTest = await list('', other.test_key);
    expect(acmeLive.map((transaction) => [transaction.deposit_id, transaction.livemode])).toEqual([[liveDepositId, true]]);
    expect(otherTest.map((transaction) => transaction.deposit_id)).toEqual([otherDepositId]);
    expect(
      acmeTest.every((transaction) => !transaction.livemode && transaction.deposit_id !== otherDepositId && transaction.deposit_id !== liveDepositId),
    ).toBe(true);

    // Another tenant's id: a 404 by id, a 400 as a cursor, nothing by deposit.
    const foreign = otherTest[0]!.id;
    expect(await get(`/balance/transactions/${foreign}`)).toMatchObject({ status: 404, body: { error: { code: 'resource_missing' } } });
    expect(await get(`/balance/transactions?starting_after=${foreign}`)).toMatchObject({
      status: 400,
      body: { error: { code: 'resource_missing', param: 'starting_after' } },
    });
    expect(await get(`/balance/transactions/${acmeLive[0]!.id}`)).toMatchObject({ status: 404 });
    expect(await list(`&deposit_id=${otherDepositId}`)).toEqual([]);
    expect((await exportCsv(`deposit_id=${otherDepositId}`)).rows).toEqual([]);
    expect((await exportCsv('', acme.live_key)).rows.map((row) => row.deposit_id)).toEqual([liveDepositId]);
  });

  it('exports as CSV exactly what the list shows, with the same filters', async () => {
    const all = await list();
    const exported = await exportCsv();
    expect(exported.disposition).toBe('attachment; filename="balance-transactions-test.csv"');
    expect(exported.columns).toEqual([
      'id',
      'created_at',
      'type',
      'deposit_id',
      'payout_id',
      'network',
      'currency',
      'amount',
      'fee',
      'net',
      'amount_usd',
      'fee_usd',
      'net_usd',
      'livemode',
    ]);
    expect(exported.rows).toEqual(all.map((transaction) => asCsvRow(transaction, exported.columns)));
    expect(exported.rows.find((row) => row.deposit_id === deposits.huge.id)!.amount).toBe('1000000000000000000000000.000000');

    const reversals = await exportCsv('type=reversal');
    expect(reversals.rows).toEqual((await list('&type=reversal')).map((transaction) => asCsvRow(transaction, exported.columns)));
    expect(reversals.rows.map((row) => row.net)).toEqual(['-5.000000']);
    // A filter matching nothing is the header alone; a bad one, or a page parameter, is refused before anything is sent.
    expect(await exportCsv('created[lt]=2000-01-01T00:00:00Z')).toMatchObject({ rows: [] });
    expect(await get('/balance/transactions/export?type=refund')).toMatchObject({ status: 400, body: { error: { param: 'type' } } });
    expect(await get('/balance/transactions/export?limit=10')).toMatchObject({ status: 400, body: { error: { code: 'parameter_unknown', param: 'limit' } } });
  });

  it('streams an export of more rows than a page holds, every one once, in the order of the list', async () => {
    const db = stack.database.db;
    const bulk = await buildMerchant(db, 'Ledger Bulk');
    const created = await api.request('/api/v1/customers', { method: 'POST', key: bulk.test_key, json: {} });
    const bulkCustomer = ((await created.json()) as { id: string }).id;
    const [template] = await db.selectFrom('deposits').selectAll().where('id', '=', deposits.small.id).execute();
    // 1,201 completed deposits booked as completeDeposit books them (balanced entries), in three statements: the export reads them 500 at a time.
    const count = 1201;
    const start = Date.now() - count;
    const made = Array.from({ length: count }, (_, index) => ({
      deposit: newId('deposit', start + index),
      transaction: newId('ledgerTransaction', start + index),
      amount: BigInt(index + 3) * 10n ** 6n,
    }));
    await db
      .insertInto('deposits')
      .values(
        made.map(({ deposit, amount }, index) => ({
          ...template!,
          id: deposit,
          merchant_id: bulk.merchant_id,
          customer_id: bulkCustomer,
          transaction_hash: `0x${index.toString(16).padStart(64, '0')}`,
          amount,
          fee: 2_000_000n,
          net_amount: amount - 2_000_000n,
          amount_usd_cents: amount / 10_000n,
          fee_usd_cents: 200n,
          created_at: undefined,
          updated_at: undefined,
        })),
      )
      .execute();
    await db
      .insertInto('ledger_transactions')
      .values(
        made.map(({ deposit, transaction, amount }) => ({
          id: transaction,
          deposit_id: deposit,
          kind: 'deposit' as const,
          merchant_id: bulk.merchant_id,
          livemode: false,
          network: 'ethereum',
          currency: 'USDT',
          amount_usd_cents: amount / 10_000n,
          fee_usd_cents: 200n,
        })),
      )
      .execute();
    await db
      .insertInto('ledger_entries')
      .values(
        made.flatMap(({ transaction, amount }) =>
          (
            [
              ['customer_deposits', -amount],
              ['merchant_balance', amount - 2_000_000n],
              ['platform_fees', 2_000_000n],
            ] as const
          ).map(([account, units]) => ({
            transaction_id: transaction,
            account,
            merchant_id: bulk.merchant_id,
            livemode: false,
            network: 'ethereum',
            currency: 'USDT',
            amount: units,
          })),
        ),
      )
      .execute();

    const exported = await exportCsv('', bulk.test_key);
    expect(exported.rows).toHaveLength(count);
    expect(exported.rows.map((row) => row.id)).toEqual(made.map(({ transaction }) => transaction).reverse());
    expect(exported.rows.at(-1)).toMatchObject({ amount: '3.000000', fee: '2.000000', net: '1.000000', amount_usd: '3.00' });

    // The paged list agrees, page after page.
    const listed: Transaction[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await get(`/balance/transactions?limit=100${after ? `&starting_after=${after}` : ''}`, bulk.test_key);
      listed.push(...page.body.data);
      if (!page.body.has_more) break;
      after = page.body.data.at(-1).id;
    }
    expect(exported.rows).toEqual(listed.map((transaction) => asCsvRow(transaction, exported.columns)));
  });
});
