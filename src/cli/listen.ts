/**
 * `npm run cli -- listen --forward-to URL [--events deposit.*] [--api-key sk_test_…] [--signature-format python_json_dumps] [--rotate-secret]`:
 * the test-mode events of the API's event stream, forwarded to a local URL as webhook deliveries —
 * the same body and headers a registered endpoint gets, signed with the merchant's `listen` secret
 * (one per merchant and mode, kept in .data/listen-secrets/ and shown at every start;
 * `--rotate-secret` makes a new one) — so that a webhook handler can be built without a public URL
 * or an endpoint. One line per event. `--signature-format` signs `X-Webhook-Signature` as an
 * endpoint with that setting would (TotoPay's Python sample needs `python_json_dumps`).
 */
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { eventTypes } from '../domain/events';
import { idFloor } from '../domain/ids';
import { webhookSignatureFormats } from '../domain/signatures';
import { eventObject } from '../events/event.presenter';
import type { EventObject } from '../events/events.schema';
import { StartupError } from '../startup';
import { signedEventRequest } from '../webhooks/deliveries';
import { postWebhook, type PostResult } from '../webhooks/http';
import { devDataDir, displayPath } from './dev-stack';
import { listenSecret } from './listen-secrets';
import { ApiRequestError, testModeApi, type TestModeApi } from './test-mode-api';

/** The event as the stream sends it; only what a delivery carries is kept. */
const StreamedEvent = z.object({
  id: z.string(),
  object: z.literal('event'),
  event: z.string(),
  created_at: z.iso.datetime(),
  livemode: z.boolean(),
  data: z.record(z.string(), z.unknown()),
});

const ForwardUrl = z.url({ protocol: /^https?$/ });

const MAX_RECONNECT_DELAY_MS = 15_000;
/** Ids already forwarded, so an event the stream sends again after a reconnection is not forwarded twice. */
const REMEMBERED_IDS = 10_000;
const TYPE_WIDTH = Math.max(...eventTypes.map((type) => type.length));

export async function listen(args: string[], env: NodeJS.ProcessEnv, usage: string): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'forward-to': { type: 'string' },
      events: { type: 'string' },
      'api-key': { type: 'string' },
      'signature-format': { type: 'string' },
      'rotate-secret': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values['forward-to']) throw new StartupError(`listen needs --forward-to, the URL to POST events to\n${usage}`);
  const target = ForwardUrl.safeParse(values['forward-to']);
  if (!target.success) throw new StartupError(`--forward-to must be an http(s) URL, e.g. http://localhost:4000/webhooks; got "${values['forward-to']}"`);
  const forwardTo = new URL(target.data);
  const format = webhookSignatureFormats.find((name) => name === (values['signature-format'] ?? 'compact'));
  if (!format) throw new StartupError(`--signature-format must be ${webhookSignatureFormats.join(' or ')}; got "${values['signature-format']}"`);
  const api = await testModeApi('listen', values['api-key'], env);
  let secret = '';

  const stopped = new AbortController();
  process.once('SIGINT', () => stopped.abort());
  process.once('SIGTERM', () => stopped.abort());

  const forwarded = new Set<string>();
  const forward = async (event: EventObject) => {
    const { rawBody, headers } = signedEventRequest(event, [secret], format);
    const result = await postWebhook(forwardTo, rawBody, headers);
    process.stdout.write(`${eventLine(event, result)}\n`);
  };

  // Events made before this session are not forwarded: a resumed stream also replays what was
  // made in the 30 s before Last-Event-ID (in case it committed late), which may predate it.
  const sessionFloor = idFloor('event', Date.now());
  // Resuming from the newest event there is, rather than from now, means even a drop before the
  // first event of the session loses nothing.
  let lastEventId = (await api.call(api.inflow.events.list, { limit: 1 })).data[0]?.id;

  // The stream is the only thing this command waits on, and a developer watches it: reconnecting
  // here (with Last-Event-ID, so nothing is lost) is what keeps a long session useful.
  let connectedOnce = false;
  let delayMs = 1_000;
  while (!stopped.signal.aborted) {
    let connected = false;
    let why: string;
    try {
      const stream = await api.eventStream({ types: values.events, lastEventId, signal: stopped.signal });
      connected = true;
      if (!connectedOnce) {
        // Once the API has accepted the stream (the key, --events): nothing is kept for a refused invocation.
        secret = await keptSecret(api, env, values['rotate-secret']);
        await warnIfNothingAnswers(forwardTo);
        process.stdout.write(`Ready! Your webhook signing secret is ${secret} (^C to quit)\n`);
      } else process.stderr.write(`inflow: reconnected${lastEventId ? `, resuming after ${lastEventId}` : ''}\n`);
      connectedOnce = true;
      delayMs = 1_000;
      for await (const streamed of stream) {
        if (!streamed.id) continue;
        lastEventId = streamed.id;
        if (forwarded.has(streamed.id) || streamed.id < sessionFloor) continue;
        const parsed = StreamedEvent.safeParse(streamed);
        if (!parsed.success) {
          process.stderr.write(`inflow: skipped ${streamed.id}: not an event object (${parsed.error.issues[0]!.message})\n`);
          continue;
        }
        forwarded.add(streamed.id);
        if (forwarded.size > REMEMBERED_IDS) forwarded.delete(forwarded.values().next().value!);
        const { id, event, created_at, livemode, data } = parsed.data;
        // Rebuilt by the presenter, so the body is byte for byte what a delivery of this event sends.
        void forward(eventObject({ id, type: event, created_at: new Date(created_at), livemode, data }));
      }
      why = 'the API ended it';
    } catch (error) {
      if (stopped.signal.aborted) break;
      // Before the first connection a refusal or an unreachable API is a mistake to report; after it, an outage to ride out.
      const transient =
        error instanceof ApiRequestError ? error.status === undefined || error.status === 429 || error.status >= 500 : !(error instanceof StartupError);
      if (!connectedOnce || !transient) throw error;
      why = error instanceof ApiRequestError ? error.message.replace(/^inflow: /, '') : (error as Error).message;
      if (error instanceof ApiRequestError && error.retryAfterSeconds) delayMs = Math.max(delayMs, error.retryAfterSeconds * 1_000);
    }
    if (stopped.signal.aborted) break;
    const seconds = delayMs / 1_000;
    process.stderr.write(connected ? `inflow: the event stream closed (${why}); reconnecting in ${seconds} s\n` : `inflow: ${why}; retrying in ${seconds} s\n`);
    await sleep(delayMs, undefined, { signal: stopped.signal }).catch(() => undefined);
    delayMs = Math.min(MAX_RECONNECT_DELAY_MS, delayMs * 2);
  }
  // Forwards still in flight are not waited for: ^C means stop now.
  process.exit(0);
}

/** The merchant's kept `listen` secret for test mode (made, or replaced with `rotate`), said on stderr with where it is kept. */
async function keptSecret(api: TestModeApi, env: NodeJS.ProcessEnv, rotate: boolean): Promise<string> {
  const owner = await api.owner();
  const kept = await listenSecret(devDataDir(env), owner, 'test', { rotate });
  process.stderr.write(
    `inflow: ${kept.made ? (rotate ? 'a new signing secret' : 'a signing secret') : 'the signing secret'} of ${owner} in test mode, ` +
      `kept in ${displayPath(kept.file)}${kept.made ? '' : ` since ${kept.secret.created_at}`}: the same at every start (--rotate-secret makes a new one)\n`,
  );
  return kept.secret.secret;
}

/** Says, once at start, that nothing accepts connections at the URL yet, and how to start a receiver there. */
async function warnIfNothingAnswers(url: URL): Promise<void> {
  const unreachable = await nothingAnswers(url);
  if (!unreachable) return;
  process.stderr.write(
    `inflow: nothing answers at ${url.host} yet (${unreachable}): start your handler there, or \`npm run cli -- devnet receive --port ${url.port || (url.protocol === 'https:' ? 443 : 80)}\`, which prints and verifies what arrives\n`,
  );
}

/** Why a TCP connection to the URL's host fails (`connect ECONNREFUSED 127.0.0.1:4000`), or undefined when something accepts it. */
function nothingAnswers(url: URL): Promise<string | undefined> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

/** `2026-11-23 14:05:02  deposit.completed   evt_…  [200 OK] 12 ms`, or the connection error in the brackets. */
function eventLine(event: EventObject, result: PostResult): string {
  const answer = result.statusCode === null ? result.error : `${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}`.trim();
  return `${localTime(new Date())}  ${event.event.padEnd(TYPE_WIDTH)}  ${event.id}  [${answer}] ${result.latencyMs} ms`;
}

function localTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
