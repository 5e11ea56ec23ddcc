import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../../../db/database';
import type { AppState } from '../../context';

const CHECK_TIMEOUT_MS = 2_000;

interface DependencyStatus {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

/**
 * `GET /healthz`: 200 when Postgres and Temporal both answer within 2 s, else 503 with the
 * failing dependency named. Unauthenticated, for load balancers and `npm run dev`.
 */
export function healthRoutes(deps: { db: Db; temporal: Client }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/healthz', async (ctx) => {
    const [postgres, temporal] = await Promise.all([
      check(() => sql`select 1`.execute(deps.db)),
      check(() =>
        deps.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.temporal.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    const healthy = postgres.status === 'up' && temporal.status === 'up';
    ctx.status = healthy ? 200 : 503;
    ctx.body = { status: healthy ? 'ok' : 'unavailable', postgres, temporal };
  });
  return router;
}

async function check(probe: () => Promise<unknown>): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { status: 'up', latency_ms: elapsed(started) };
  } catch (error) {
    return { status: 'down', latency_ms: elapsed(started), error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
