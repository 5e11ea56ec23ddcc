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
 * Event ids sort by the time the event was made, not by when its transaction committed: an event
 * made first can commit after one made later, so "everything after the last id sent" would skip
 * it. Each poll therefore reads every id made since COMMIT_OVERLAP_MS before the previous poll
 * began and sends the ones this stream has not sent (the seen set, pruned as that window moves
 * on). An event whose transaction commits more than the window after it made the event could be
 * missed by open streams; never by webhooks, which the event's own workflow delivers.
 *
 * Resuming after `Last-Event-ID` replays what was made after that event and, for the same reason,
 * what was made in the window before it: a client may see an event twice but does not miss one,
 * so it should drop ids it has seen (webhook receivers do the same with `webhook-id`).
 *
 * Polling rather than LISTEN/NOTIFY: NOTIFY would need a trigger on `events` and a connection of
 * its own outside the pool in every API process, and a stream would still poll after each
 * reconnection of that connection. A stream holds no connection between polls: each poll is one
 * indexed read of the window, plus the rows of new events.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { callerOf, type AppContext } from '../api/context';
import { inputOf } from '../api/middleware/validate';
import type { Db } from '../db/database';
import { isApiKeyActive } from '../db/repositories/api-keys.repository';
import { eventIdsAfter, findEvent, findEventsByIds } from '../db/repositories/events.repository';
import { InvalidRequestError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
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
/** How often an open stream checks that its key still works. */
const KEY_CHECK_INTERVAL_MS = 1_000;
/** Ids one poll reads at most. */
const BACKLOG_READ_LIMIT = 2_000;
/** Events read and sent per query, so a long backlog (a stream resumed after hours) is read in pieces. */
const SEND_BATCH = 200;

const LastEventId = z.string().refine((value) => isId('event', value), 'must be an event id (evt_…)');

/** The open streams of each app, ended by endEventStreams when its server stops. */
const openStreams = new WeakMap<object, Set<() => void>>();
const stoppedApps = new WeakSet<object>();

/**
 * Ends every open stream of the app (`ctx.app`) and refuses new ones: a stream never ends by
 * itself, so without this a server waiting for its connections to close would wait forever.
 */
export function endEventStreams(app: object): void {
  stoppedApps.add(app);
  for (const end of openStreams.get(app) ?? []) end();
}

/**
 * The route handler. It returns only when the stream ends, so the request keeps its place among
 * the key's requests in progress for as long as the stream is open (docs/limits.md).
 */
export function streamEvents(deps: { db: Db; logger: Logger }) {
  return async (ctx: AppContext): Promise<void> => {
    const caller = callerOf(ctx);
    const { types } = inputOf(ctx, StreamEventsQuery);
    const resumeFrom = await resumePoint(deps.db, ctx);

    const ended = new AbortController();
    const end = () => ended.abort();
    const streams = openStreams.get(ctx.app) ?? new Set();
    openStreams.set(ctx.app, streams);
    streams.add(end);
    // The response's close, not the request's: a request without a body closes as soon as it is read.
    ctx.res.once('close', end);
    try {
      if (stoppedApps.has(ctx.app)) throw new ServiceUnavailableError('The server is shutting down; reconnect with Last-Event-ID.');

      const seen = new Set<string>();
      let windowStart = resumeFrom ? timeOfId(resumeFrom) - COMMIT_OVERLAP_MS : Date.now() - COMMIT_OVERLAP_MS;
      if (resumeFrom) seen.add(resumeFrom);
      /** The ids of events made since the window began that this stream has not sent, oldest first; the window then moves on. */
      const poll = async () => {
        const nextWindowStart = Date.now() - COMMIT_OVERLAP_MS;
        const floor = idFloor('event', windowStart);
        const ids = await eventIdsAfter(deps.db, caller, { afterId: floor, types, limit: BACKLOG_READ_LIMIT });
        // A long backlog (a stream resumed after hours) is read in pieces: the next poll goes on
        // from the last id read, rather than jumping to the present over what it did not read.
        if (ids.length === BACKLOG_READ_LIMIT) windowStart = Math.max(windowStart, timeOfId(ids.at(-1)!));
        // Only after the read: an event committed after it was made after nextWindowStart.
        else windowStart = Math.max(windowStart, nextWindowStart);
        for (const id of seen) if (id < floor) seen.delete(id);
        const unseen = ids.filter((id) => !seen.has(id));
        unseen.forEach((id) => seen.add(id));
        return unseen;
      };

      // A new stream starts from now: what is committed already is only marked as seen. Headers go
      // out after that first read, so whatever a client does once it has them reaches it.
      const backlog = await poll();
      if (!resumeFrom) backlog.length = 0;
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
        // A client that reads slowly pauses the polls rather than growing a buffer here.
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
        await send(backlog);
        let keyCheckedAt = Date.now();
        while (!ended.signal.aborted) {
          await sleep(POLL_INTERVAL_MS, undefined, { signal: ended.signal }).catch(() => undefined);
          if (ended.signal.aborted) break;
          // A key deleted, or rolled past its grace period, must not keep reading: the stream ends within a second.
          if (Date.now() - keyCheckedAt >= KEY_CHECK_INTERVAL_MS) {
            if (!(await isApiKeyActive(deps.db, caller.apiKeyId))) break;
            keyCheckedAt = Date.now();
          }
          await send(await poll());
        }
      } catch (error) {
        // Headers are sent, so no error answer is possible: the stream ends and the client resumes.
        deps.logger.warn({ request_id: ctx.state.requestId, err: error }, 'event stream ended by an error');
      } finally {
        clearInterval(heartbeat);
        response.end();
      }
    } finally {
      streams.delete(end);
      ctx.res.off('close', end);
    }
  };
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
