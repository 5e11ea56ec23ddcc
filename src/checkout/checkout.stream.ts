/**
 * `GET /pay/{token}/events`: the payment page's status, live, as server-sent `state` events (the
 * page's LiveView, in its language), sent when it changes and once on opening.
 *
 * Confirmations between the first and the last make no event, so the page cannot follow the event
 * log: one watcher per API process reads the state of every order an open page shows, in one
 * query of the orders and one of their payments, every POLL_INTERVAL_MS, and nothing when no page
 * is open. A page's stream carries only its own order.
 *
 * Limits (the page is public, so its stream is too): STREAMS_PER_TOKEN per order's page and
 * STREAMS_PER_PROCESS in all, each refused with a 429 beyond; a stream ends once its order is
 * final for the page (completed, expired, underpaid, canceled), or after MAX_STREAM_MS (the
 * browser reconnects on its own).
 */
import type { Context } from 'koa';
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import { depositsOfOrders, findOrdersByIds } from '../orders/orders.repository';
import type { Order } from '../orders/orders.table';
import type { Deposit } from '../deposits/deposits.table';
import { paymentState } from './payment-state';
import { liveView, type LiveView } from './checkout.page';
import { languages, type Language } from './strings';

export const POLL_INTERVAL_MS = 1_000;
export const STREAMS_PER_TOKEN = 5;
export const STREAMS_PER_PROCESS = 2_000;
const HEARTBEAT_INTERVAL_MS = 15_000;
const MAX_STREAM_MS = 30 * 60_000;

interface Viewer {
  orderId: string;
  merchant: string;
  language: Language;
  /** The last view sent, as JSON: a poll that changes nothing sends nothing. */
  sent: string;
  send: (view: LiveView) => void;
  end: () => void;
}

/** Each app's one watcher (an app is one API process's server). */
const watchers = new WeakMap<object, PaymentPageWatcher>();
const stoppedApps = new WeakSet<object>();

export class PaymentPageWatcher {
  private readonly viewers = new Set<Viewer>();
  private running = false;
  polls = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly clock: () => Date,
  ) {}

  get streams(): number {
    return this.viewers.size;
  }

  streamsOf(orderId: string): number {
    let count = 0;
    for (const viewer of this.viewers) if (viewer.orderId === orderId) count++;
    return count;
  }

  watch(viewer: Viewer): () => void {
    this.viewers.add(viewer);
    if (!this.running) void this.run();
    return () => this.viewers.delete(viewer);
  }

  /** Ends every stream (the server is stopping). */
  endAll(): void {
    for (const viewer of this.viewers) viewer.end();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.viewers.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        if (this.viewers.size === 0) break;
        try {
          await this.poll();
        } catch (error) {
          // Postgres away: the pages keep what they show, and the next poll tries again.
          this.logger.warn({ err: error }, 'payment page poll failed');
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async poll(): Promise<void> {
    const viewers = [...this.viewers];
    const ids = [...new Set(viewers.map((viewer) => viewer.orderId))];
    const [orders, deposits] = await Promise.all([findOrdersByIds(this.db, ids), depositsOfOrders(this.db, ids)]);
    this.polls++;
    const byId = new Map(orders.map((order) => [order.id, order]));
    const now = this.clock();
    for (const viewer of viewers) {
      const order = byId.get(viewer.orderId);
      if (order && this.viewers.has(viewer)) offer(viewer, currentView(order, deposits, viewer, now));
    }
  }
}

function currentView(order: Order, deposits: Deposit[], viewer: Pick<Viewer, 'merchant' | 'language'>, now: Date): LiveView {
  const own = deposits.filter((deposit) => deposit.order_id === order.id);
  return liveView(order, paymentState(order, own, now), viewer.merchant, languages[viewer.language]);
}

/** Sends the view if it differs from the last one sent. */
function offer(viewer: Viewer, view: LiveView): void {
  const json = JSON.stringify(view);
  if (json === viewer.sent) return;
  viewer.sent = json;
  viewer.send(view);
}

export function endPaymentPageStreams(app: object): void {
  stoppedApps.add(app);
  watchers.get(app)?.endAll();
}

/**
 * Streams the order's page state until it is final. The caller has found the order by its token;
 * `deps.clock` is the app's (tests fix it).
 */
export async function streamPaymentPage(
  ctx: Context,
  order: Order,
  deposits: Deposit[],
  viewer: { merchant: string; language: Language },
  deps: { db: Db; logger: Logger; clock: () => Date },
): Promise<'too_many' | void> {
  if (stoppedApps.has(ctx.app)) return 'too_many';
  const watcher = watchers.get(ctx.app) ?? new PaymentPageWatcher(deps.db, deps.logger, deps.clock);
  watchers.set(ctx.app, watcher);
  if (watcher.streamsOf(order.id) >= STREAMS_PER_TOKEN || watcher.streams >= STREAMS_PER_PROCESS) return 'too_many';

  ctx.req.socket.setTimeout(0);
  ctx.respond = false;
  const response = ctx.res;
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    Connection: 'close',
  });
  let ended = false;
  let resolveEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveEnded = resolve));
  const end = () => {
    if (ended) return;
    ended = true;
    if (!response.writableEnded) response.end();
    resolveEnded();
  };
  const write = (chunk: string) => {
    if (!ended) response.write(chunk);
  };
  const entry: Viewer = {
    orderId: order.id,
    ...viewer,
    sent: '',
    send: (view) => {
      write(`event: state\ndata: ${JSON.stringify(view)}\n\n`);
      if (view.final) end();
    },
    end,
  };
  response.once('close', end);
  // The browser reconnects by itself after a dropped stream (and after MAX_STREAM_MS): not too eagerly.
  write('retry: 3000\n: stream open\n\n');
  const unwatch = watcher.watch(entry);
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), HEARTBEAT_INTERVAL_MS);
  const limit = setTimeout(end, MAX_STREAM_MS);
  try {
    offer(entry, currentView(order, deposits, viewer, deps.clock()));
    await done;
  } finally {
    unwatch();
    clearInterval(heartbeat);
    clearTimeout(limit);
    response.off('close', end);
  }
}
