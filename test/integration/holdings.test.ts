/**
 * The holdings ledger books a transaction and its entries together or not at all. The chaos run
 * found a deposit's holdings transaction committed without its entries (its worker killed -9
 * between two statements): every later catch-up took it as booked, and reconciliation found the
 * deposit address holding 219.5 USDT more than the ledger said. Real Postgres; the failure between
 * the two is a statement the database refuses (an account its check constraint does not know).
 */
import { sql } from 'kysely';
import { bookHoldings, holdingsByAddress } from '../../src/treasury/holdings.repository';
import type { HoldingsAccount } from '../../src/treasury/treasury.table';
import * as repair from '../../migrations/20261208T0200-holdings-deposits-without-entries';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const address = '0x9755509b445784c64CEedB11b5214c65de11AB70';
const deposit = { livemode: false, network: 'ethereum', kind: 'deposit' as const, sourceId: 'ltx_test_deposit' };
const entries = (account: HoldingsAccount) => [
  { account, currency: 'USDT', address, amount: 219_513_936n },
  { account: 'received' as const, currency: 'USDT', address: null, amount: -219_513_936n },
];

describe('the holdings ledger', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.destroy());

  const transactionsOf = async (sourceId: string) =>
    (await sql<{ id: string }>`select id from holdings_transactions where source_id = ${sourceId}`.execute(database.db)).rows;

  it('books a transaction with its entries or not at all, so a retry after a failure books it', async () => {
    // The entries fail (as a killed process's would never come): the transaction must not stay booked without them.
    await expect(bookHoldings(database.db, deposit, entries('no_such_account' as HoldingsAccount))).rejects.toThrow(/check constraint/);
    expect(await transactionsOf(deposit.sourceId)).toEqual([]);

    expect(await bookHoldings(database.db, deposit, entries('deposit_addresses'))).toBe(true);
    // Booked once: the retried step's second booking is a no-op.
    expect(await bookHoldings(database.db, deposit, entries('deposit_addresses'))).toBe(false);
    expect(await holdingsByAddress(database.db, false, 'ethereum')).toEqual([
      { account: 'deposit_addresses', address, currency: 'USDT', balance: '219513936' },
    ]);
  });

  it('books a transaction that moved nothing with no entries (energy lent on staked bandwidth)', async () => {
    const free = { livemode: false, network: 'tron', kind: 'energy_delegation' as const, sourceId: 'stx_test_free' };
    const nothing = [
      { account: 'gas_wallet' as const, currency: 'TRX', address: 'TXYZ', amount: 0n },
      { account: 'network_fees' as const, currency: 'TRX', address: null, amount: 0n },
    ];
    expect(await bookHoldings(database.db, free, nothing)).toBe(true);
    expect(await transactionsOf(free.sourceId)).toHaveLength(1);
    expect(await bookHoldings(database.db, free, nothing)).toBe(false);
  });

  it('repairs a deposit booked without its entries by an older inflow, so catch-up books it again', async () => {
    const broken = { ...deposit, sourceId: 'ltx_test_broken' };
    await sql`insert into holdings_transactions (id, livemode, network, kind, source_id)
              values ('htx_test_broken', false, 'ethereum', 'deposit', ${broken.sourceId})`.execute(database.db);
    expect(await bookHoldings(database.db, broken, entries('deposit_addresses'))).toBe(false);

    await repair.up(database.db);
    expect(await transactionsOf(broken.sourceId)).toEqual([]);
    // What had its entries, and what legitimately has none, stay as they were.
    expect(await transactionsOf(deposit.sourceId)).toHaveLength(1);
    expect(await transactionsOf('stx_test_free')).toHaveLength(1);
    expect(await bookHoldings(database.db, broken, entries('deposit_addresses'))).toBe(true);
    expect(await holdingsByAddress(database.db, false, 'ethereum')).toEqual([
      { account: 'deposit_addresses', address, currency: 'USDT', balance: String(2n * 219_513_936n) },
    ]);
  });
});
