import type { ParameterizedContext } from 'koa';
import type { Mode } from '../domain/api-keys';

/** Who is calling: set by the auth middleware on every /api/v1 request. */
export interface Caller {
  merchantId: string;
  apiKeyId: string;
  mode: Mode;
  livemode: boolean;
}

export interface AppState {
  requestId: string;
  caller?: Caller;
  /** The exact request bytes, kept for idempotency fingerprints. */
  rawBody?: string;
  body?: unknown;
}

export type AppContext = ParameterizedContext<AppState>;

/** The caller of an authenticated route (the auth middleware guarantees it is there). */
export function callerOf(ctx: AppContext): Caller {
  if (!ctx.state.caller) throw new Error('callerOf used on a route without auth');
  return ctx.state.caller;
}
