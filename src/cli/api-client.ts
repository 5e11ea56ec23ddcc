/**
 * The public API as the CLI's development commands (`listen`, `trigger`) use it: with a test key,
 * JSON in and out, and the contract's errors turned into one line.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../config';
import { modeOfKey, redactApiKey } from '../domain/api-keys';
import { StartupError } from '../startup';
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

const ErrorBody = z.object({ error: z.object({ message: z.string() }) });

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** `GET /events/stream`, answered 200; the caller reads the body. */
  async openEventStream(options: { types?: string | undefined; lastEventId?: string | undefined; signal: AbortSignal }): Promise<Response> {
    const query = options.types ? `?types=${encodeURIComponent(options.types)}` : '';
    return this.send('GET', `/events/stream${query}`, {
      headers: { Accept: 'text/event-stream', ...(options.lastEventId ? { 'Last-Event-ID': options.lastEventId } : {}) },
      signal: options.signal,
    });
  }

  private async request<T>(method: string, path: string, body?: Record<string, unknown>): Promise<T> {
    const response = await this.send(method, path, {
      ...(body ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, init: { headers?: Record<string, string>; body?: string; signal: AbortSignal }): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { method, ...init, headers: { Authorization: `Bearer ${this.key}`, ...init.headers } });
    } catch (error) {
      if (init.signal.aborted) {
        if ((init.signal.reason as Error | undefined)?.name !== 'TimeoutError') throw error;
        throw new ApiRequestError(`inflow: ${method} ${path.split('?')[0]} had no answer from ${this.baseUrl} within 30 s`, undefined);
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiRequestError(`inflow: cannot reach the API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, undefined);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let message = text.slice(0, 200);
    try {
      message = ErrorBody.parse(JSON.parse(text)).error.message;
    } catch {
      // Not the API's error shape (a proxy's page, say): its first characters will do.
    }
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw new ApiRequestError(
      `inflow: ${method} ${path.split('?')[0]} answered ${response.status}: ${message}`,
      response.status,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}

/** Refuses anything but a test key: these commands make objects and receive events in test mode only. */
export function requireTestKey(key: string, command: string): void {
  const mode = modeOfKey(key);
  if (mode === 'live') throw new ConfigError(`inflow: ${command} works in test mode only; refusing the live key ${redactApiKey(key)} (use a sk_test_ key)`);
  if (!mode) throw new ConfigError(`inflow: ${command}: "${redactApiKey(key)}" is not an API key (sk_test_ and 43 letters and digits)`);
}

const DevMerchant = z.object({ test_key: z.string() });
const ApiUrl = z.url({ protocol: /^https?$/ });

/**
 * The API and test key a development command uses, said in one line on stderr: the key from
 * --api-key, else INFLOW_API_KEY, else the development merchant's when the API is the dev stack's;
 * the API from INFLOW_API_URL, else the dev stack. A live key is refused before anything else.
 */
export async function testModeApi(command: string, apiKeyOption: string | undefined, env: NodeJS.ProcessEnv): Promise<ApiClient> {
  const explicit = apiKeyOption
    ? { key: apiKeyOption, source: '--api-key' }
    : env.INFLOW_API_KEY
      ? { key: env.INFLOW_API_KEY, source: 'INFLOW_API_KEY' }
      : undefined;
  if (explicit) requireTestKey(explicit.key, command);
  const environment = await cliEnvironment(env, ['api']);
  let chosen = explicit;
  if (!chosen && environment.devStack) {
    const file = environment.devStack.stack.merchant_file;
    const saved = await readFile(file, 'utf8')
      .then((text) => DevMerchant.parse(JSON.parse(text)))
      .catch(() => undefined);
    if (!saved) throw new ConfigError(`inflow: ${command}: cannot read the development merchant's test key from ${file}; pass --api-key sk_test_…`);
    chosen = { key: saved.test_key, source: displayPath(file) };
  }
  if (!chosen)
    throw new ConfigError(`inflow: ${command} needs a test API key: --api-key sk_test_… or INFLOW_API_KEY (the API is INFLOW_API_URL's, not the dev stack's)`);
  requireTestKey(chosen.key, command);
  const baseUrl = ApiUrl.safeParse(environment.env.INFLOW_API_URL);
  if (!baseUrl.success) throw new ConfigError(`inflow: INFLOW_API_URL must be the API's http(s) base URL, e.g. http://localhost:3000/api/v1`);
  process.stderr.write(`${environment.describe()}, key ${redactApiKey(chosen.key)} (${chosen.source})\n`);
  return new ApiClient(baseUrl.data.replace(/\/+$/, ''), chosen.key);
}
