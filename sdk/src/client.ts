/**
 * The transport every method shares: builds the request from the operation's route (generated
 * from the spec), sends it with the key, retries what is safe to retry, and turns an error answer
 * into its typed error.
 *
 * Retried, up to `maxRetries` times with exponential backoff and jitter, waiting at least the
 * answer's `Retry-After`:
 *  - 429 and 503, on any method: the API refused or failed before changing anything (API.md);
 *  - a network error or timeout, only when a repeat answers as the first would have: GET, and
 *    POSTs that honour Idempotency-Key, which the SDK sends on every such call (the same key on
 *    each retry, so the API answers a retry with the first answer). Not DELETE: a delete whose
 *    answer was lost would be answered 404 when repeated, reporting a success as a failure.
 */
import { randomUUID } from 'node:crypto';
import { ConnectionError, errorFromResponse, retryAfterSeconds, type InflowError } from './errors';
import { ListRequest, type List } from './list';
import { operationRoutes } from './openapi';
import { readServerSentEvents } from './server-sent-events';
import type { ArgsOf, IdempotentRequestOptions, ListItemOf, ListOperationId, OperationId, QueryOf, ResultOf } from './operations';

export const SDK_VERSION = '0.1.0';

export interface InflowOptions {
  /** Where inflow is served, e.g. `https://pay.example.com` (`/api/v1` is added unless it is there already). */
  baseUrl?: string;
  /** Retries of a failed call (429, 503, network errors of idempotent requests); 0 turns them off. Default 2. */
  maxRetries?: number;
  /** How long one attempt may take before it counts as a network error. Default 30 s. */
  timeoutMs?: number;
  /** A fetch of your own (a proxy, instrumentation, tests); the global fetch by default. */
  fetch?: typeof fetch;
}

type Route = (typeof operationRoutes)[OperationId];

export interface StreamOptions {
  /** Ends the stream. */
  signal?: AbortSignal;
  /** Resume after this event (what was made shortly before it comes again: drop ids you have seen). */
  lastEventId?: string;
}

/** Each streamed body's Response, held as long as the body is (see #openBody). */
const responsesOfBodies = new WeakMap<ReadableStream<Uint8Array>, Response>();

/**
 * What a streaming method returns: iterated with `for await`, each item as it happens (the
 * connection is made when iteration starts). `open()` makes the connection first, for a caller
 * that must know the stream is live before it does what it wants to see (it throws as the
 * iteration would: the typed error of a refusal); the next iteration then reads that connection.
 */
export interface StreamRequest<Item> extends AsyncIterable<Item> {
  /** Connects and resolves once the API has answered 200: from then on, what is made comes through the stream. */
  open(): Promise<void>;
}

/** A streaming method: `(params?, options?) => StreamRequest<item>` (an AsyncIterable), with the operation it calls. */
export type StreamMethod<Id extends OperationId, Item> = ((params?: QueryOf<Id>, options?: StreamOptions) => StreamRequest<Item>) & {
  readonly operationId: Id;
};

/** A CSV export's method: the file's bytes as they stream. */
export type DownloadMethod<Id extends OperationId> = ((params?: QueryOf<Id>, options?: { signal?: AbortSignal }) => Promise<ReadableStream<Uint8Array>>) & {
  readonly operationId: Id;
};

/** A resource's method, which also says which operation of the spec it calls. */
export type Method<Id extends OperationId, Result> = ((...args: ArgsOf<Id>) => Result) & { readonly operationId: Id };

const INITIAL_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;
/** A Retry-After longer than this is the caller's decision, not a wait to hide inside a call. */
const MAX_RETRY_AFTER_SECONDS = 60;

export class InflowClient {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #maxRetries: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(apiKey: string, options: InflowOptions = {}) {
    if (typeof apiKey !== 'string' || apiKey.trim() === '') throw new TypeError('new Inflow(apiKey): an API key (sk_test_… or sk_live_…) is required');
    this.#apiKey = apiKey;
    this.#baseUrl = `${(options.baseUrl ?? 'http://localhost:3000').replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1`;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    // The global one is looked up per call, so a fetch replaced after construction is still the one used.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** A method for the operation: `(…path parameters, params?, options?) => Promise<result>`, typed from the spec. */
  protected operation<Id extends OperationId>(operationId: Id): Method<Id, Promise<ResultOf<Id>>> {
    const route = operationRoutes[operationId];
    return Object.assign((...args: ArgsOf<Id>) => this.#call(route, args) as Promise<ResultOf<Id>>, { operationId });
  }

  /** A list method: awaited, one page; iterated with `for await`, every item of every page. */
  protected list<Id extends ListOperationId>(operationId: Id): Method<Id, ListRequest<ListItemOf<Id>>> {
    const route = operationRoutes[operationId];
    const paramsIndex = pathParameterCount(route);
    const method = (...args: ArgsOf<Id>) =>
      new ListRequest<ListItemOf<Id>>((startingAfter) => {
        if (startingAfter === undefined) return this.#call(route, args) as Promise<List<ListItemOf<Id>>>;
        const next: unknown[] = [...args];
        next[paramsIndex] = { ...(args[paramsIndex] as Record<string, unknown> | undefined), starting_after: startingAfter };
        return this.#call(route, next) as Promise<List<ListItemOf<Id>>>;
      });
    return Object.assign(method, { operationId });
  }

  /**
   * A method for a server-sent-events operation: iterate it with `for await` to get each item as
   * it happens, until `signal` aborts or the server ends the stream. Resume after a drop with
   * `lastEventId` (items made shortly before it come again: drop ids you have seen).
   */
  protected stream<Id extends OperationId, Item>(operationId: Id): StreamMethod<Id, Item> {
    const route = operationRoutes[operationId];
    const open = (params: Record<string, string | undefined> = {}, options: StreamOptions = {}) => {
      const connect = () =>
        this.#openBody(route, params, 'text/event-stream', options.signal, options.lastEventId ? { 'Last-Event-ID': options.lastEventId } : {});
      // A connection made by open() and not yet read: the next iteration takes it, any later one connects anew.
      let opened: Promise<ReadableStream<Uint8Array>> | undefined;
      return {
        open: async () => {
          opened ??= connect();
          await opened;
        },
        async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
          const connection = opened ?? connect();
          opened = undefined;
          for await (const message of readServerSentEvents(await connection)) yield JSON.parse(message.data) as Item;
        },
      } satisfies StreamRequest<Item>;
    };
    // The query's own types are the caller's; on the wire every parameter is text.
    return Object.assign(open as (params?: QueryOf<Id>, options?: StreamOptions) => StreamRequest<Item>, { operationId });
  }

  /**
   * A method for a CSV export: resolves once the API has answered 200, to the file as a stream of
   * bytes (any size; pipe it to a file with `Readable.fromWeb` and `pipeline`). A refusal throws
   * as any call's does. Not retried: a caller that wants the file again asks again.
   */
  protected download<Id extends OperationId>(operationId: Id): DownloadMethod<Id> {
    const route = operationRoutes[operationId];
    const download = (params: Record<string, string | undefined> = {}, options: { signal?: AbortSignal } = {}) =>
      this.#openBody(route, params, 'text/csv', options.signal);
    return Object.assign(download as (params?: QueryOf<Id>, options?: { signal?: AbortSignal }) => Promise<ReadableStream<Uint8Array>>, { operationId });
  }

  /** A GET whose answer is read as it streams: its body once the API has answered 200, else its error. */
  async #openBody(
    route: Route,
    params: Record<string, string | undefined>,
    accept: string,
    signal: AbortSignal | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const url = new URL(`${this.#baseUrl}${route.path}`);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    const headers = { Authorization: `Bearer ${this.#apiKey}`, Accept: accept, 'User-Agent': `inflow-sdk-node/${SDK_VERSION}`, ...extraHeaders };
    const response = await this.#fetch(url, { headers, ...(signal ? { signal } : {}) });
    if (!response.ok || !response.body) throw errorFromResponse(response.status, await response.text(), response.headers);
    // Node's fetch cancels a body whose Response was garbage-collected: a stream opened and read later
    // (open(), then iterate) would end empty. The body keeps its Response alive for as long as it lives.
    responsesOfBodies.set(response.body, response);
    return response.body;
  }

  async #call(route: Route, args: unknown[]): Promise<unknown> {
    const paramsIndex = pathParameterCount(route);
    let pathIndex = 0;
    const path = route.path.replace(/\{\w+\}/g, (name) => {
      const value = args[pathIndex++];
      // An empty id would make `/customers/{id}` the list's URL: a different operation, answered with a different shape.
      if (typeof value !== 'string' || value === '') throw new TypeError(`${route.method} ${route.path}: ${name} must be a non-empty string`);
      return encodeURIComponent(value);
    });
    const params = route.input === 'none' ? undefined : (args[paramsIndex] as Record<string, unknown> | undefined);
    const options = (args[route.input === 'none' ? paramsIndex : paramsIndex + 1] ?? {}) as IdempotentRequestOptions;

    const url = new URL(`${this.#baseUrl}${path}`);
    if (route.input === 'query') {
      for (const [name, value] of Object.entries(params ?? {})) {
        if (value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
      }
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: 'application/json',
      'User-Agent': `inflow-sdk-node/${SDK_VERSION}`,
    };
    if (route.input === 'body') headers['Content-Type'] = 'application/json';
    if (route.idempotent) headers['Idempotency-Key'] = options.idempotencyKey ?? randomUUID();
    const body = route.input === 'body' ? JSON.stringify(params ?? {}) : undefined;
    const retriesAfterNetworkError = route.method === 'GET' || route.idempotent;
    const maxRetries = options.maxRetries ?? this.#maxRetries;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;

    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < maxRetries;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(url, { method: route.method, headers, body, signal });
        text = await response.text();
      } catch (thrown) {
        // The caller's own abort ends the call as the caller asked, with its reason.
        if (options.signal?.aborted) throw options.signal.reason;
        const error = new ConnectionError({
          message: timeout.aborted ? `${route.method} ${path}: no answer within ${timeoutMs} ms` : `${route.method} ${path}: ${describeNetworkError(thrown)}`,
          code: timeout.aborted ? 'timeout' : 'connection_failed',
          cause: thrown,
        });
        if (!canRetry || !retriesAfterNetworkError) throw error;
        await delay(retryDelayMs(attempt, undefined), options.signal);
        continue;
      }
      if (response.ok) return parseAnswer(response, text);
      const error: InflowError = errorFromResponse(response.status, text, response.headers);
      const retryAfter = retryAfterSeconds(response.headers);
      const retriable = (response.status === 429 || response.status === 503) && (retryAfter === undefined || retryAfter <= MAX_RETRY_AFTER_SECONDS);
      if (!canRetry || !retriable) throw error;
      await delay(retryDelayMs(attempt, retryAfter), options.signal);
    }
  }
}

/**
 * Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, a reset) is its cause. Duck-typed:
 * an error from another realm (a vm context, jest) is no `instanceof Error` here.
 */
function describeNetworkError(thrown: unknown): string {
  const messageOf = (value: unknown) =>
    typeof (value as { message?: unknown } | null)?.message === 'string' ? (value as { message: string }).message : undefined;
  const message = messageOf(thrown) ?? String(thrown);
  const cause = messageOf((thrown as { cause?: unknown } | null)?.cause);
  return cause ? `${message} (${cause})` : message;
}

/** Path parameters come first in a method's arguments; params (if any) and options follow. */
function pathParameterCount(route: Route): number {
  return route.path.split('{').length - 1;
}

function parseAnswer(response: Response, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errorFromResponse(response.status, text, response.headers);
  }
}

/**
 * Exponential backoff (0.5 s, 1 s, 2 s… up to 8 s) with equal jitter, so clients that failed
 * together do not come back together; after a Retry-After, that long plus a jittered half-step.
 */
function retryDelayMs(attempt: number, retryAfterSeconds: number | undefined): number {
  const backoff = Math.min(MAX_RETRY_DELAY_MS, INITIAL_RETRY_DELAY_MS * 2 ** attempt);
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000 + Math.random() * INITIAL_RETRY_DELAY_MS;
  return backoff / 2 + Math.random() * (backoff / 2);
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
