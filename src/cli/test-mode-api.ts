/**
 * The public API as the CLI's development commands (`listen`, `trigger`) use it: the SDK with a
 * test key, and what it throws turned into the one line the CLI prints, naming the request
 * (`inflow: POST /orders/ord_…/cancel answered 503: …`, `inflow: cannot reach the API at …`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../config';
import { modeOfKey, redactApiKey } from '../domain/api-keys';
import { StartupError } from '../startup';
import { ConnectionError, Inflow, InflowError, RateLimitError, type ArgsOf, type Method, type OperationId, type Schemas } from '../../sdk/src';
import { operationRoutes } from '../../sdk/src/openapi';
import { cliEnvironment, displayPath } from './dev-stack';

/** An answer other than 2xx, or no answer: its message is the one line the CLI prints. */
export class ApiRequestError extends StartupError {
  constructor(
    message: string,
    /** The HTTP status, or undefined when the API could not be reached. */
    readonly status: number | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 30_000;
/** How the SDK quotes an answer that is not the API's error shape (a proxy's page, say); the CLI prints the quote alone. */
const NOT_AN_INFLOW_ERROR = /^HTTP \d+ with a body that is not an inflow error: /;

export class TestModeApi {
  readonly inflow: Inflow;

  constructor(
    /** INFLOW_API_URL, e.g. http://localhost:3000/api/v1: what the one-line errors name. */
    readonly baseUrl: string,
    private readonly key: string,
    /** The merchant the key belongs to, when the key came from the development merchant's file. */
    private readonly knownMerchantId?: string,
  ) {
    // No retries: a command run by hand says at once what went wrong (trigger waits out the one refusal it expects itself).
    this.inflow = new Inflow(key, { baseUrl, maxRetries: 0, timeoutMs: TIMEOUT_MS });
  }

  /** `api.call(api.inflow.orders.cancel, id)`: the SDK method's result, or its error as one line. */
  async call<Id extends OperationId, Result>(method: Method<Id, PromiseLike<Result>>, ...args: ArgsOf<Id>): Promise<Result> {
    try {
      return await method(...args);
    } catch (error) {
      if (!(error instanceof InflowError)) throw error;
      throw this.oneLine(error, requestLine(method.operationId, args));
    }
  }

  /**
   * Whose key this is, for what is kept per merchant (`listen`'s secret): the merchant's id from
   * `GET /account`, else the development merchant's file, else (an API without `/account`) a
   * fingerprint of the key, which belongs to one merchant and mode.
   */
  async owner(): Promise<string> {
    const account = await this.inflow.account.retrieve().catch(() => undefined);
    if (account) return account.id;
    return this.knownMerchantId ?? `key_${createHash('sha256').update(this.key).digest('hex').slice(0, 16)}`;
  }

  /**
   * `GET /events/stream`, connected (answered 200) when this resolves, so what is made from then on
   * comes through it; a refusal or an unreachable API is one line. Ends when `signal` aborts.
   */
  async eventStream(options: {
    types?: string | undefined;
    lastEventId?: string | undefined;
    signal: AbortSignal;
  }): Promise<AsyncIterable<Schemas['EventWithDeliveries']>> {
    const stream = this.inflow.events.stream(options.types ? { types: options.types } : {}, {
      signal: options.signal,
      ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}),
    });
    try {
      await stream.open();
    } catch (error) {
      if (options.signal.aborted) throw error;
      throw this.oneLine(error, requestLine('streamEvents', []));
    }
    return stream;
  }

  /** An SDK error as one line; anything else a stream's connection threw is fetch's own error: no answer. */
  private oneLine(error: unknown, request: string): ApiRequestError {
    if (error instanceof InflowError && error.statusCode !== undefined) {
      const detail = error.code === 'invalid_response' ? error.message.replace(NOT_AN_INFLOW_ERROR, '') : error.message;
      const retryAfter = error instanceof RateLimitError && error.retryAfterSeconds ? error.retryAfterSeconds : undefined;
      return new ApiRequestError(`inflow: ${request} answered ${error.statusCode}: ${detail}`, error.statusCode, retryAfter);
    }
    if (error instanceof ConnectionError && error.code === 'timeout') {
      return new ApiRequestError(`inflow: ${request} had no answer from ${this.baseUrl} within ${TIMEOUT_MS / 1_000} s`, undefined);
    }
    // Node's fetch says "fetch failed"; why (ECONNREFUSED, ENOTFOUND…) is its cause.
    const failed = (error instanceof ConnectionError ? error.cause : error) as { message?: string; cause?: { code?: string; message?: string } };
    return new ApiRequestError(`inflow: cannot reach the API at ${this.baseUrl}: ${failed.cause?.code ?? failed.cause?.message ?? failed.message}`, undefined);
  }
}

/** `POST /orders/ord_…/cancel`: the operation's route with its path arguments in place. */
function requestLine(operationId: OperationId, args: readonly unknown[]): string {
  const route = operationRoutes[operationId];
  let index = 0;
  return `${route.method} ${route.path.replace(/\{\w+\}/g, () => String(args[index++]))}`;
}

/** Refuses anything but a test key: these commands make objects and receive events in test mode only. */
export function requireTestKey(key: string, command: string): void {
  const mode = modeOfKey(key);
  if (mode === 'live') throw new ConfigError(`inflow: ${command} works in test mode only; refusing the live key ${redactApiKey(key)} (use a sk_test_ key)`);
  if (!mode) throw new ConfigError(`inflow: ${command}: "${redactApiKey(key)}" is not an API key (sk_test_ and 43 letters and digits)`);
}

const DevMerchant = z.object({ test_key: z.string(), merchant_id: z.string().optional() });
const ApiUrl = z.url({ protocol: /^https?$/ });

/**
 * The API and test key a development command uses, said in one line on stderr: the key from
 * --api-key, else INFLOW_API_KEY, else the development merchant's when the API is the dev stack's;
 * the API from INFLOW_API_URL, else the dev stack. A live key is refused before anything else.
 */
export async function testModeApi(command: string, apiKeyOption: string | undefined, env: NodeJS.ProcessEnv): Promise<TestModeApi> {
  const explicit = apiKeyOption
    ? { key: apiKeyOption, source: '--api-key' }
    : env.INFLOW_API_KEY
      ? { key: env.INFLOW_API_KEY, source: 'INFLOW_API_KEY' }
      : undefined;
  if (explicit) requireTestKey(explicit.key, command);
  const environment = await cliEnvironment(env, ['api']);
  let chosen: { key: string; source: string; merchantId?: string | undefined } | undefined = explicit;
  if (!chosen && environment.devStack) {
    const file = environment.devStack.stack.merchant_file;
    const saved = await readFile(file, 'utf8')
      .then((text) => DevMerchant.parse(JSON.parse(text)))
      .catch(() => undefined);
    if (!saved) throw new ConfigError(`inflow: ${command}: cannot read the development merchant's test key from ${file}; pass --api-key sk_test_…`);
    chosen = { key: saved.test_key, source: displayPath(file), merchantId: saved.merchant_id };
  }
  if (!chosen)
    throw new ConfigError(`inflow: ${command} needs a test API key: --api-key sk_test_… or INFLOW_API_KEY (the API is INFLOW_API_URL's, not the dev stack's)`);
  requireTestKey(chosen.key, command);
  const baseUrl = ApiUrl.safeParse(environment.env.INFLOW_API_URL);
  if (!baseUrl.success) throw new ConfigError(`inflow: INFLOW_API_URL must be the API's http(s) base URL, e.g. http://localhost:3000/api/v1`);
  process.stderr.write(`${environment.describe()}, key ${redactApiKey(chosen.key)} (${chosen.source})\n`);
  return new TestModeApi(baseUrl.data.replace(/\/+$/, ''), chosen.key, chosen.merchantId);
}
