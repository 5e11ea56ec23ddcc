import { readServerSentEvents, type ServerSentEvent } from '../../sdk/src/server-sent-events';
import { waitFor } from './wait';

export interface OpenStream {
  response: Response;
  /** Every event received so far, with when it arrived (performance.now()). */
  received: Array<ServerSentEvent & { at: number }>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  waitForEvent(what: string, match: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent & { at: number }>;
  close(): void;
}

/** How long the response's headers may take: a stream that never answers fails here, naming itself, not at the test's timeout. */
const HEADERS_TIMEOUT_MS = 15_000;

/** `GET /api/v1/events/stream` read in the background; resolves once the response's headers are in. */
export async function openEventStream(baseUrl: string, key: string, options: { query?: string; lastEventId?: string } = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const url = `${baseUrl}/api/v1/events/stream${options.query ?? ''}`;
  const headersLate = setTimeout(() => abort.abort(new Error(`GET ${url}: no response headers in ${HEADERS_TIMEOUT_MS} ms`)), HEADERS_TIMEOUT_MS);
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${key}`, ...(options.lastEventId ? { 'Last-Event-ID': options.lastEventId } : {}) },
    signal: abort.signal,
  }).finally(() => clearTimeout(headersLate));
  const received: OpenStream['received'] = [];
  const ended =
    response.ok && response.body
      ? (async () => {
          try {
            for await (const event of readServerSentEvents(response.body!)) received.push({ ...event, at: performance.now() });
          } catch (error) {
            if (!abort.signal.aborted) throw error;
          }
        })()
      : Promise.resolve();
  return {
    response,
    received,
    ended,
    async waitForEvent(what, match, timeoutMs) {
      await waitFor(what, async () => received.some(match), timeoutMs);
      return received.find(match)!;
    },
    close: () => abort.abort(),
  };
}
