/**
 * `GET /events/stream`: the caller's events (its merchant, its key's mode) as server-sent events,
 * for `npm run cli -- listen` and dashboards. Each event goes out as
 *
 *   id: evt_…
 *   event: deposit.completed
 *   data: {the event as GET /events/:id shows it}
 *
 * within a poll interval of its commit, with a comment line every 15 s so that proxies and clients
 * can tell a quiet stream from a dead one.
 *
 * One poller per API process serves every open stream (EventPoller): every 200 ms it reads the ids
 * of events made lately, of every tenant, in one indexed query, and hands each stream the ids that
 * are its own; once a second it checks every stream's key in one more query. A stream costs a query
 * only when it has events to send (their rows). Polling costs the same with one stream or a
 * thousand, and nothing when none is open.
 *
 * Event ids sort by the time the event was made, not by when its transaction committed: an event
 * made first can commit after one made later, so "everything after the last id read" would skip
 * it. Each poll therefore reads every id made since COMMIT_OVERLAP_MS before the previous poll
 * began and hands on the ones the poller has not seen (the seen set, pruned as that window moves
 * on). An event whose transaction commits more than the window after it made the event could be
 * missed by open streams; never by webhooks, which the event's own workflow delivers.
 *
 * Resuming after `Last-Event-ID` replays what was made after that event and, for the same reason,
 * what was made in the window before it (the stream reads that backlog itself, once): a client may
 * see an event twice but does not miss one, so it should drop ids it has seen (webhook receivers
 * do the same with `webhook-id`).
 *
 * Polling rather than LISTEN/NOTIFY: NOTIFY would need a trigger on `events` and a connection of
 * its own outside the pool in every API process, and the poller would still read after each
 * reconnection of that connection. The poller holds no connection between polls.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { callerOf, type AppContext, type Caller } from '../api/context';
import { inputOf } from '../api/middleware/validate';
import type { Db } from '../db/database';
import { eventIdsAfter, findEvent, findEventsByIds } from './events.repository';
import { InvalidRequestError, RateLimitError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
import { idFloor, isId, timeOfId } from '../domain/ids';
import type { Logger } from '../logger';
import { presentEvents } from './event.presenter';
import { StreamEventsQuery } from './events.schema';

/** A new event reaches the stream at most this long (plus one query) after its commit. */
export const POLL_INTERVAL_MS = 200;
export const HEARTBEAT_INTERVAL_MS = 15_000;
/**
 * How long a transaction may take from making its event to committing it and still be streamed.
 * Well above the 15 s a statement may run (src/db/database.ts) and any clock skew between the
 * processes that make ids.
 */
export const COMMIT_OVERLAP_MS = 30_000;
/** How often the poller checks that the keys of open streams still work. */
const KEY_CHECK_INTERVAL_MS = 1_000;
/** Ids one poll reads at most. */
const BACKLOG_READ_LIMIT = 2_000;
/** Events read and sent per query, so a long backlog (a stream resumed after hours) is read in pieces. */
const SEND_BATCH = 200;

const LastEventId = z.string().refine((value) => isId('event', value), 'must be an event id (evt_…)');

/** The open streams of each app, ended by endEventStreams when its server stops. */
const openStreams = new WeakMap<object, Set<() => void>>();
const stoppedApps = new WeakSet<object>();
/** Each app's one poller (an app is one API process's server). */
const pollers = new WeakMap<object, EventPoller>();

/**
 * Ends every open stream of the app (`ctx.app`) and refuses new ones: a stream never ends by
 * itself, so without this a server waiting for its connections to close would wait forever.
 */
export function endEventStreams(app: object): void {
  stoppedApps.add(app);
  for (const end of openStreams.get(app) ?? []) end();
}

/** The app's poller: how many polls it has made, how many streams it serves (tests, metrics). */
export function eventPollerOf(app: object): EventPoller | undefined {
  return pollers.get(app);
}

/** Ids a slow client may have waiting before its stream is ended (it resumes with Last-Event-ID). */
const MAX_QUEUED_IDS = 10_000;

interface Subscriber {
  caller: Caller;
  types: readonly string[] | undefined;
  /** Set by the poll after the one the stream joined during: what that poll read was made before the stream opened. */
  ready: boolean;
  /** The first poll after it joined failed: the stream answers 503 rather than open blind. */
  failed?: boolean;
  queue: string[];
  /** Wakes the stream's loop: ids were queued, or the stream must end. */
  wake: () => void;
  end: () => void;
}

/**
 * The one reader of new events in a process, started by the first stream and stopped after the
 * last: each poll reads the ids of every tenant's recent events and queues each stream's own.
 */
export class EventPoller {
  private readonly subscribers = new Set<Subscriber>();
  private readonly seen = new Set<string>();
  private windowStart = 0;
  private running = false;
  /** Polls made since the process started: one per interval however many streams are open. */
  polls = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  get streams(): number {
    return this.subscribers.size;
  }

  /** Streams open for the merchant (both modes). */
  streamsOf(merchantId: string): number {
    let count = 0;
    for (const subscriber of this.subscribers) if (subscriber.caller.merchantId === merchantId) count++;
    return count;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    if (!this.running) void this.run();
    return () => this.subscribers.delete(subscriber);
  }

  private async run(): Promise<void> {
    this.running = true;
    // What was made before the first stream opened is only marked as seen.
    this.windowStart = Date.now() - COMMIT_OVERLAP_MS;
    this.seen.clear();
    let keysCheckedAt = Date.now();
    try {
      while (this.subscribers.size > 0) {
        try {
          await this.poll();
          if (Date.now() - keysCheckedAt >= KEY_CHECK_INTERVAL_MS) {
            await this.checkKeys();
            keysCheckedAt = Date.now();
          }
        } catch (error) {
          // A failed poll (Postgres away) is retried at the next interval; its window has not moved.
          // Streams waiting for their first poll are refused instead (a 503, as any request that needs Postgres).
          this.logger.warn({ err: error }, 'event stream poll failed');
          for (const subscriber of this.subscribers) {
            if (subscriber.ready) continue;
            subscriber.failed = true;
            subscriber.wake();
          }
        }
        if (this.subscribers.size > 0) await sleep(POLL_INTERVAL_MS);
      }
    } finally {
      this.running = false;
    }
  }

  private async poll(): Promise<void> {
    const nextWindowStart = Date.now() - COMMIT_OVERLAP_MS;
    const floor = idFloor('event', this.windowStart);
    // Who was subscribed when the read began: a stream that joins during it is ready after the next one.
    const readers = [...this.subscribers];
    const rows = await recentEvents(this.db, floor, BACKLOG_READ_LIMIT);
    this.polls++;
    // A burst longer than one read is read in pieces: the next poll goes on from the last id read.
    if (rows.length === BACKLOG_READ_LIMIT) this.windowStart = Math.max(this.windowStart, timeOfId(rows.at(-1)!.id));
    // Only after the read: an event committed after it was made after nextWindowStart.
    else this.windowStart = Math.max(this.windowStart, nextWindowStart);
    for (const id of this.seen) if (id < floor) this.seen.delete(id);
    const unseen = rows.filter((row) => !this.seen.has(row.id));
    unseen.forEach((row) => this.seen.add(row.id));
    for (const subscriber of readers) {
      if (!this.subscribers.has(subscriber)) continue;
      if (!subscriber.ready) {
        subscriber.ready = true;
        subscriber.wake();
        continue;
      }
      const { merchantId, livemode } = subscriber.caller;
      const own = unseen.filter(
        (row) => row.merchant_id === merchantId && row.livemode === livemode && (!subscriber.types || subscriber.types.includes(row.type)),
      );
      if (own.length === 0) continue;
      subscriber.queue.push(...own.map((row) => row.id));
      if (subscriber.queue.length > MAX_QUEUED_IDS) subscriber.end();
      else subscriber.wake();
    }
  }

  /** A key deleted, or rolled past its grace period, must not keep reading: its streams end within a second. */
  private async checkKeys(): Promise<void> {
    const keyIds = [...new Set([...this.subscribers].map((subscriber) => subscriber.caller.apiKeyId))];
    if (keyIds.length === 0) return;
    const active = new Set(await activeApiKeyIds(this.db, keyIds));
    for (const subscriber of this.subscribers) if (!active.has(subscriber.caller.apiKeyId)) subscriber.end();
  }
}

/** Every tenant's events made after `afterId`: the poller's one read. */
async function recentEvents(db: Db, afterId: string, limit: number) {
  return db.selectFrom('events').select(['id', 'merchant_id', 'livemode', 'type']).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

/** Which of the keys still work (not revoked, not past a roll's grace period). */
async function activeApiKeyIds(db: Db, ids: string[], now: Date = new Date()): Promise<string[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select('id')
    .where('id', 'in', ids)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return rows.map((row) => row.id);
}

/**
 * The route handler. It returns only when the stream ends. A stream is outside its key's
 * concurrent-request cap (it holds no connection, and dashboards' tabs would otherwise take the
 * slots of the merchant's backend); a merchant may have `eventStreamsPerMerchant` open in each API
 * process (docs/limits.md).
 */
export function streamEvents(deps: { db: Db; logger: Logger; eventStreamsPerMerchant: number }) {
  return async (ctx: AppContext): Promise<void> => {
    const caller = callerOf(ctx);
    const { types } = inputOf(ctx, StreamEventsQuery);
    const resumeFrom = await resumePoint(deps.db, ctx);
    if (stoppedApps.has(ctx.app)) throw new ServiceUnavailableError('The server is shutting down; reconnect with Last-Event-ID.');

    const poller = pollers.get(ctx.app) ?? new EventPoller(deps.db, deps.logger);
    pollers.set(ctx.app, poller);
    if (poller.streamsOf(caller.merchantId) >= deps.eventStreamsPerMerchant) {
      ctx.set('Retry-After', '5');
      throw new RateLimitError(
        `This account already has ${deps.eventStreamsPerMerchant} event streams open on this server, the most allowed at once. Close one (a dashboard tab, a listener) and retry.`,
        'concurrency_limit_exceeded',
      );
    }

    const ended = new AbortController();
    let wake: () => void = () => undefined;
    const subscriber: Subscriber = {
      caller,
      types,
      ready: false,
      queue: [],
      wake: () => wake(),
      end: () => ended.abort(),
    };
    /** Resolves when `done()` holds or the stream ends, re-checked at each wake. */
    const until = async (done: () => boolean) => {
      while (!done() && !ended.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
    };
    ended.signal.addEventListener('abort', () => wake());
    const end = () => ended.abort();
    const streams = openStreams.get(ctx.app) ?? new Set();
    openStreams.set(ctx.app, streams);
    streams.add(end);
    // The response's close, not the request's: a request without a body closes as soon as it is read.
    ctx.res.once('close', end);
    const unsubscribe = poller.subscribe(subscriber);
    try {
      // Headers go out once the poller has read past the moment the stream opened, so whatever a
      // client does once it has them reaches it.
      await until(() => subscriber.ready || subscriber.failed === true);
      if (subscriber.failed) throw new ServiceUnavailableError('Postgres is unavailable; nothing was streamed. Retry later.');
      if (ended.signal.aborted) {
        if (stoppedApps.has(ctx.app)) throw new ServiceUnavailableError('The server is shutting down; reconnect with Last-Event-ID.');
        ctx.respond = false;
        return;
      }

      ctx.status = 200;
      ctx.set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache',
        // nginx and its kin would otherwise buffer the stream.
        'X-Accel-Buffering': 'no',
        // The connection ends with the stream, so a server that is stopping is not kept waiting for it.
        Connection: 'close',
      });
      ctx.respond = false;
      const response = ctx.res;
      const write = async (chunk: string) => {
        if (ended.signal.aborted || response.write(chunk)) return;
        // A client that reads slowly is waited for; the poller queues its ids meanwhile (up to MAX_QUEUED_IDS).
        await once(response, 'drain', { signal: ended.signal }).catch(() => undefined);
      };
      const send = async (ids: string[]) => {
        for (let start = 0; start < ids.length && !ended.signal.aborted; start += SEND_BATCH) {
          const events = await presentEvents(deps.db, await findEventsByIds(deps.db, caller, ids.slice(start, start + SEND_BATCH)));
          for (const event of events) await write(`id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`);
        }
      };

      const heartbeat = setInterval(() => void write(': heartbeat\n\n'), HEARTBEAT_INTERVAL_MS);
      try {
        await write(': stream open\n\n');
        // What the poller hands on may overlap the backlog this stream read itself: sent once.
        const sent = resumeFrom ? await sendBacklog(deps.db, caller, types, resumeFrom, send, ended.signal) : new Set<string>();
        while (!ended.signal.aborted) {
          await until(() => subscriber.queue.length > 0);
          const ids = subscriber.queue.splice(0).filter((id) => !sent.has(id));
          await send(ids);
        }
      } catch (error) {
        // Headers are sent, so no error answer is possible: the stream ends and the client resumes.
        deps.logger.warn({ request_id: ctx.state.requestId, err: error }, 'event stream ended by an error');
      } finally {
        clearInterval(heartbeat);
        response.end();
      }
    } finally {
      unsubscribe();
      streams.delete(end);
      ctx.res.off('close', end);
    }
  };
}

/**
 * A resumed stream's backlog: the caller's events made after `resumeFrom` (and in the window
 * before it), read in pieces. Returns the ids sent that the poller might hand on again.
 */
async function sendBacklog(
  db: Db,
  caller: Caller,
  types: readonly string[] | undefined,
  resumeFrom: string,
  send: (ids: string[]) => Promise<void>,
  signal: AbortSignal,
): Promise<Set<string>> {
  const recent = new Set<string>();
  // The poller reads no further back than the window before it began; older ids need not be kept.
  const keepFrom = idFloor('event', Date.now() - 2 * COMMIT_OVERLAP_MS);
  let after = idFloor('event', timeOfId(resumeFrom) - COMMIT_OVERLAP_MS);
  while (!signal.aborted) {
    const ids = (await eventIdsAfter(db, caller, { afterId: after, types, limit: BACKLOG_READ_LIMIT })).filter((id) => id !== resumeFrom);
    await send(ids);
    for (const id of ids) if (id >= keepFrom) recent.add(id);
    if (ids.length < BACKLOG_READ_LIMIT - 1) break;
    after = ids.at(-1)!;
  }
  return recent;
}

/** The event named by `Last-Event-ID`, which must be one of the caller's. */
async function resumePoint(db: Db, ctx: AppContext): Promise<string | undefined> {
  const header = ctx.get('Last-Event-ID');
  if (!header) return undefined;
  const parsed = LastEventId.safeParse(header);
  if (!parsed.success) throw new InvalidRequestError(`Invalid Last-Event-ID: ${parsed.error.issues[0]!.message}`, 'Last-Event-ID');
  if (!(await findEvent(db, callerOf(ctx), parsed.data))) throw new ResourceMissingError(`No such event: '${parsed.data}'`, 'Last-Event-ID');
  return parsed.data;
}
