import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/database';
import { listCursors } from '../chains/chains.repository';
import { outboxBacklog } from '../outbox/workflow-outbox.repository';
import { treasuryHealth } from '../treasury/sweeps.repository';
import type { AppState } from './context';

const CHECK_TIMEOUT_MS = 2_000;

interface DependencyStatus {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

/**
 * `GET /healthz`: 200 while Postgres answers within 2 s, else 503. Temporal down is 200 with status
 * `degraded`: the API still takes every request but an order's cancel (its workflow starts wait in
 * the outbox), and a load balancer must not take it out of rotation for that.
 *
 * Anyone may ask, so the public answer is the status alone. `GET /healthz?detail` with
 * `Authorization: Bearer <INFLOW_HEALTH_TOKEN>` adds each dependency's state and error, the
 * outbox's backlog (starts waiting for a worker's relay, and the oldest one's age) and each chain
 * watcher's lag, with its nodes' states where a chain has several: the errors name hosts and ports,
 * and the cursors say how far behind each watcher is, which is for operators, not the internet.
 * Without INFLOW_HEALTH_TOKEN the detailed answer is refused to everyone (see docs/operations.md).
 */
export function healthRoutes(deps: { db: Db; temporal: Client; healthToken?: string | undefined }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/healthz', async (ctx) => {
    const detail = ctx.query.detail !== undefined;
    if (detail) {
      if (!deps.healthToken) {
        ctx.status = 403;
        ctx.body = { error: 'The detailed health answer is off: set INFLOW_HEALTH_TOKEN to open it to whoever holds that token.' };
        return;
      }
      if (!sameToken(bearerOf(ctx.get('Authorization')), deps.healthToken)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer');
        ctx.body = { error: 'The detailed health answer needs Authorization: Bearer <INFLOW_HEALTH_TOKEN>.' };
        return;
      }
    }
    const [postgres, temporal] = await Promise.all([
      check(() => sql`select 1`.execute(deps.db)),
      // The abort also cancels the SDK's own retries, so no call outlives the check.
      check((signal) => deps.temporal.connection.withAbortSignal(signal, () => deps.temporal.workflowService.getSystemInfo({}))),
    ]);
    const serving = postgres.status === 'up';
    ctx.status = serving ? 200 : 503;
    const status = !serving ? 'unavailable' : temporal.status === 'up' ? 'ok' : 'degraded';
    if (!detail) {
      ctx.body = { status };
      return;
    }
    ctx.body = {
      status,
      postgres,
      temporal,
      outbox: serving ? await outboxStatus(deps.db) : null,
      chains: serving ? await chainLag(deps.db) : [],
      treasury: serving ? await treasuryStatus(deps, temporal.status === 'up') : null,
    };
  });
  return router;
}

function bearerOf(header: string): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(header);
  return match?.[1];
}

/** Compared as SHA-256 digests: equal lengths, so timingSafeEqual never leaks the token's length. */
function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Workflow starts committed but not yet handed to Temporal: a growing age means no relay is running. */
async function outboxStatus(db: Db) {
  const backlog = await outboxBacklog(db).catch(() => null);
  if (!backlog) return null;
  return { queued: backlog.queued, oldest_age_s: backlog.oldest ? Math.max(0, Math.round((Date.now() - backlog.oldest.getTime()) / 1000)) : null };
}

/**
 * Sweeps and reconciliation from the database, and the sweep Schedules from Temporal: a worker makes
 * them only when it has a signer, so none means nothing is being swept. The API never asks the
 * signer itself (docs/treasury.md).
 */
async function treasuryStatus(deps: { db: Db; temporal: Client }, temporalUp: boolean) {
  const status = await treasuryHealth(deps.db).catch(() => null);
  if (!status) return null;
  let schedules: string[] | null = null;
  if (temporalUp) {
    schedules = [];
    const found = schedules;
    const listed = await check((signal) =>
      deps.temporal.connection.withAbortSignal(signal, async () => {
        for await (const schedule of deps.temporal.schedule.list({ pageSize: 100 }))
          if (schedule.scheduleId.startsWith('sweep-')) found.push(schedule.scheduleId);
      }),
    );
    if (listed.status === 'down') schedules = null;
  }
  return {
    ...status,
    sweep_schedules: schedules?.sort() ?? null,
    ...(schedules?.length === 0
      ? { note: 'no sweep Schedules: no worker has a signer (INFLOW_SIGNER_SOCKET, INFLOW_SIGNER_SECRET), so nothing is swept or reconciled' }
      : {}),
  };
}

/** How far each chain watcher is behind its node (head − next block + 1), as of its last round. */
async function chainLag(db: Db) {
  const cursors = await listCursors(db).catch(() => []);
  return cursors.map((cursor) => ({
    network: cursor.network,
    livemode: cursor.livemode,
    head: Number(cursor.head),
    next_block: Number(cursor.next_block),
    lag: Math.max(0, Number(cursor.head) - Number(cursor.next_block) + 1),
    scanned_at: cursor.updated_at.toISOString(),
    // Several nodes: each by its host, with its state (ok, lagging, down, disagrees) as of that round.
    ...(cursor.nodes ? { nodes: cursor.nodes.map((node) => ({ name: node.name, state: node.state, head: node.head })) } : {}),
  }));
}

async function check(probe: (signal: AbortSignal) => Promise<unknown>): Promise<DependencyStatus> {
  const started = performance.now();
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  const timedOut = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), { once: true });
  });
  try {
    await Promise.race([probe(signal), timedOut]);
    return { status: 'up', latency_ms: elapsed(started) };
  } catch (error) {
    const message = (error as { message?: unknown })?.message;
    return { status: 'down', latency_ms: elapsed(started), error: typeof message === 'string' ? message.split('\n')[0]! : String(error) };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
