/**
 * Live updates of the deposit page: the public event stream (`deposit.*`, the session's key)
 * relayed to the browser's EventSource as server-sent `deposit` events, so the key never leaves
 * the server (docs/dashboard.md, Live updates).
 */
import type { Context } from 'koa';
import type { Schemas } from '../../sdk/src';
import { dashboardState } from './view';

/** GET /dashboard/stream, behind the sign-in gate. */
export async function relayDepositEvents(ctx: Context): Promise<void> {
  const { inflow } = dashboardState(ctx);
  // Resume where the browser's EventSource left off (its Last-Event-ID), or after the page's newest event.
  const resume = [ctx.get('Last-Event-ID'), typeof ctx.query.after === 'string' ? ctx.query.after : ''].find((id) => /^evt_[0-9a-z]{1,40}$/.test(id));
  const abort = new AbortController();
  const response = ctx.res;
  response.on('close', () => abort.abort());
  ctx.req.socket.setTimeout(0);
  ctx.status = 200;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no', Connection: 'close' });
  // Written by hand, as the API's own stream is: Koa would treat the browser leaving as an error.
  ctx.respond = false;
  response.writeHead(200);
  const write = (chunk: string) => {
    if (!abort.signal.aborted && !response.writableEnded) response.write(chunk);
  };
  // The browser reconnects on its own (with Last-Event-ID) after a dropped stream; not too eagerly.
  write('retry: 5000\n: connected\n\n');
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), 15_000);
  try {
    for await (const event of inflow.events.stream({ types: 'deposit.*' }, { signal: abort.signal, ...(resume ? { lastEventId: resume } : {}) })) {
      const deposit = event.data as Partial<Schemas['Deposit']>;
      const payload = {
        id: deposit.id,
        status: deposit.status,
        confirmations: deposit.confirmations,
        required_confirmations: deposit.required_confirmations,
        updated_at: deposit.updated_at,
        fee: deposit.fee ?? null,
        net_amount: deposit.net_amount ?? null,
        currency: deposit.currency,
        completed_at: deposit.completed_at ?? null,
      };
      write(`event: deposit\nid: ${event.id}\ndata: ${JSON.stringify(payload)}\n\n`);
    }
  } catch (error) {
    if (!abort.signal.aborted) write(`event: stream-error\ndata: ${JSON.stringify({ message: error instanceof Error ? error.message : 'stream failed' })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    if (!response.writableEnded) response.end();
  }
}
