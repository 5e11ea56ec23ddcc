/**
 * The load's HTTP client: every call on a fresh connection (no keep-alive socket outliving a
 * killed API), with a client-side deadline, and recorded (status or error, latency) so the run can
 * judge afterwards whether the API only ever answered 2xx, 4xx or 503, and never hung.
 */
import http from 'node:http';
import type { DownInterval } from '../../dev/managed-process';
import { testHealthToken } from '../../dev/fixtures';

export interface ApiCall {
  method: string;
  /** The route, ids replaced, for the summary. */
  route: string;
  startedAt: number;
  finishedAt: number;
  status: number | undefined;
  /** Why there was no answer (connection refused or reset, or the deadline). */
  error: string | undefined;
  timedOut: boolean;
}

export type ApiAnswer = { status: number; body: any; headers: http.IncomingHttpHeaders } | { status: undefined; error: string };

export class ApiClient {
  readonly calls: ApiCall[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
    readonly deadlineMs: number,
  ) {}

  /** A call under /api/v1. */
  request(method: 'GET' | 'POST', path: string, options: { json?: unknown; idempotencyKey?: string } = {}): Promise<ApiAnswer> {
    return this.send(method, `/api/v1${path}`, options);
  }

  /** `GET /healthz?detail` (outside /api/v1), with the stack's operator token (INFLOW_HEALTH_TOKEN) instead of a key. */
  health(): Promise<ApiAnswer> {
    return this.send('GET', '/healthz?detail', { bearer: testHealthToken });
  }

  private send(method: 'GET' | 'POST', path: string, options: { json?: unknown; idempotencyKey?: string; bearer?: string }): Promise<ApiAnswer> {
    const startedAt = Date.now();
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string> = { Authorization: `Bearer ${options.bearer ?? this.key}` };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (answer: ApiAnswer, timedOut = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        request.destroy();
        this.calls.push({
          method,
          route: routeOf(path),
          startedAt,
          finishedAt: Date.now(),
          status: answer.status,
          error: answer.status === undefined ? answer.error : undefined,
          timedOut,
        });
        resolve(answer);
      };
      const request = http.request(`${this.baseUrl}${path}`, { method, headers, agent: false });
      const deadline = setTimeout(() => finish({ status: undefined, error: `no answer within ${this.deadlineMs} ms` }, true), this.deadlineMs);
      request.on('error', (error: NodeJS.ErrnoException) => finish({ status: undefined, error: error.code ?? error.message }));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error: NodeJS.ErrnoException) => finish({ status: undefined, error: error.code ?? error.message }));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON: kept as text for the failure message.
          }
          finish({ status: response.statusCode!, body: parsed, headers: response.headers });
        });
      });
      request.end(body);
    });
  }
}

/** `/customers/cus_123/x` → `/customers/:id/x`, so the summary groups calls by route. */
function routeOf(path: string): string {
  return path
    .split('?')[0]!
    .split('/')
    .map((segment) => (/^[a-z]+_[0-9A-Za-z]+$/.test(segment) ? ':id' : segment))
    .join('/');
}

export type CallVerdict =
  | 'answered'
  | 'no answer while the API was killed'
  | 'unexpected status'
  | 'hung past the deadline'
  | 'no answer: the API had crashed'
  | 'no answer while the API was up';

/**
 * Judges a call against the contract under faults: 2xx, 4xx and 503 are answers; no answer is
 * acceptable only while the run had the API process down (killed, and not yet ready again); a
 * crash of its own is no excuse; a deadline passed is a hang whatever else was down.
 */
export function verdictOf(call: ApiCall, apiDown: readonly DownInterval[]): CallVerdict {
  if (call.timedOut) return 'hung past the deadline';
  if (call.status !== undefined) {
    return (call.status >= 200 && call.status < 300) || (call.status >= 400 && call.status < 500) || call.status === 503 ? 'answered' : 'unexpected status';
  }
  const overlapping = apiDown.filter((interval) => interval.from <= call.finishedAt && (interval.to ?? Infinity) >= call.startedAt);
  if (overlapping.some((interval) => interval.planned)) return 'no answer while the API was killed';
  // A crash is noticed when the process has exited, just after its connections were reset.
  const crashed = apiDown.some(
    (interval) => !interval.planned && interval.from <= call.finishedAt + CRASH_NOTICE_MS && (interval.to ?? Infinity) >= call.startedAt,
  );
  return crashed ? 'no answer: the API had crashed' : 'no answer while the API was up';
}

const CRASH_NOTICE_MS = 1_000;
