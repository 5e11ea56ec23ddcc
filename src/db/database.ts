import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { ApiKeyTables } from '../api-keys/api-keys.table';
import type { ChainTables } from '../chains/chain-cursors.table';
import type { CustomerTables } from '../customers/customers.table';
import type { DashboardTables } from '../dashboard/dashboard-sessions.table';
import type { DepositTables } from '../deposits/deposits.table';
import type { EventTables } from '../events/events.table';
import type { IdempotencyTables } from '../api/idempotency-keys.table';
import type { LedgerTables } from '../balance/ledger.table';
import type { MerchantTables } from '../merchants/merchants.table';
import type { OrderTables } from '../orders/orders.table';
import type { PayoutTables } from '../payouts/payouts.table';
import type { RateLimitTables } from '../api/rate-limits.table';
import type { RequestTables } from '../requests/api-requests.table';
import type { TreasuryTables } from '../treasury/treasury.table';
import type { WebhookTables } from '../webhooks/webhooks.table';
import type { OutboxTables } from '../outbox/workflow-outbox.table';

/** Every table, as each capability declares its own (its `*.table.ts`). */
export interface Database
  extends
    ApiKeyTables,
    ChainTables,
    CustomerTables,
    DashboardTables,
    DepositTables,
    EventTables,
    IdempotencyTables,
    LedgerTables,
    MerchantTables,
    OrderTables,
    PayoutTables,
    RateLimitTables,
    RequestTables,
    TreasuryTables,
    WebhookTables,
    OutboxTables {}

export type Db = Kysely<Database>;
/** Whose rows: every tenant-owned row carries merchant_id and livemode, and every query filters on both. */
export interface Tenant {
  merchantId: string;
  livemode: boolean;
}

/** What repositories take first: the pool, or the caller's transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Runs `work` in the caller's transaction, or in a new one when given the pool. */
export function inTransaction<T>(db: Executor, work: (transaction: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

/** A transaction left open without a statement this long is ended by Postgres (see createDb). */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;
/** A statement running longer is cancelled by Postgres, which also frees its locks. */
export const STATEMENT_TIMEOUT_MS = 15_000;

export interface DbOptions {
  max?: number;
  log?: (sql: string) => void;
  /**
   * STATEMENT_TIMEOUT_MS unless given; 0 for none. Only for `npm run migrate` (MIGRATION_DB): a
   * migration's index build or backfill over a large table may take minutes, and cancelled at 15 s
   * it would fail (and roll back) on exactly the deployments that need it.
   */
  statementTimeoutMs?: number;
}

/** The options of the connection that runs migrations: one connection, no statement timeout. */
export const MIGRATION_DB: DbOptions = { max: 1, statementTimeoutMs: 0 };

/**
 * A pool that fails fast instead of hanging when Postgres is down: connecting, or waiting for a
 * free connection, gives up after 5 s and a statement after 15 s, so the API can answer 503 rather
 * than keep a client waiting.
 *
 * Postgres enforces limits of its own on every connection, because a client-side timeout only
 * stops waiting: `statement_timeout` cancels the statement on the server (and releases its locks),
 * and `idle_in_transaction_session_timeout` ends a session whose transaction sits open with no
 * statement running, so a transaction stuck behind slow work gives its connection (and locks) back.
 * No request keeps its transaction open across network I/O (api/middleware/transaction.ts); this
 * is the backstop for the one that would.
 */
export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  // 0 turns both off: pg's statement_timeout 0 is "none", and a falsy query_timeout sets no timer.
  const statementTimeout = options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    query_timeout: statementTimeout,
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  // An idle client dropped by a restarting server must not crash the process.
  pool.on('error', () => undefined);
  // Nor one checked out between two statements (a transaction waiting on other work): pg-pool
  // listens only on idle clients, and an 'error' event nobody listens to kills the process. The
  // statement in flight still fails (a 503 in the API, a retry in an activity), and on release
  // the pool drops the dead client. Found by the chaos suite's kill -9 of Postgres.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const log = options.log;
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log: (event) => log(event.query.sql) } : {}) });
}
