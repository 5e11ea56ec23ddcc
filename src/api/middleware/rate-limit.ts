import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import { consumeRateLimit } from '../../db/repositories/rate-limits.repository';
import { RateLimitError } from '../../domain/errors';
import {
  concurrencyExhaustedField,
  policyForMethod,
  rateDecision,
  rateLimitField,
  rateLimitPolicyField,
  ratePolicies,
  type RateLimitSettings,
} from '../../domain/rate-limits';
import { callerOf, type AppState } from '../context';

/**
 * Per-API-key limits, mounted right after auth (docs/limits.md). Every authenticated response
 * carries RateLimit-Policy and RateLimit; a refusal is a 429 `rate_limit_error` with Retry-After.
 *
 * The concurrency cap is checked first, in memory, so a key already at its cap is refused without
 * a database round trip. It is per process on purpose: a request in progress belongs to the
 * process serving it and ends with it, whereas a shared counter in Postgres would keep the slots
 * of a process killed mid-request (kill -9, OOM) taken until something swept them. With N API
 * processes a key may have up to N × the cap in progress, which is what the cap protects: each
 * process's pool and event loop.
 *
 * The rate is checked in Postgres (consumeRateLimit), so it holds however many processes serve
 * the key. If Postgres is down that statement throws a connection error, which the error
 * middleware answers as 503, like every other request that needs Postgres (and auth, just
 * before, needs it too).
 */
export function rateLimit(db: Db, settings: RateLimitSettings): Middleware<AppState> {
  const policies = ratePolicies(settings);
  const policyField = rateLimitPolicyField(settings);
  const inProgress = new Map<string, number>();

  return async (ctx, next) => {
    const { apiKeyId } = callerOf(ctx);
    ctx.set('RateLimit-Policy', policyField);

    const running = inProgress.get(apiKeyId) ?? 0;
    if (running >= settings.concurrentRequestsPerKey) {
      ctx.set('RateLimit', concurrencyExhaustedField);
      ctx.set('Retry-After', '1');
      throw new RateLimitError(
        `This API key already has ${settings.concurrentRequestsPerKey} requests in progress, the most allowed at once. Retry when one has finished.`,
        'concurrency_limit_exceeded',
      );
    }
    inProgress.set(apiKeyId, running + 1);
    try {
      const policy = policies[policyForMethod(ctx.method)];
      const decision = rateDecision(policy, await consumeRateLimit(db, apiKeyId, policy));
      ctx.set('RateLimit', rateLimitField(policy.name, decision));
      if (!decision.admitted) {
        ctx.set('Retry-After', String(decision.retryAfterSeconds));
        throw new RateLimitError(
          `Too many requests: this API key may make ${policy.quota} ${policy.name === 'reads' ? 'read' : 'write'} requests per ${policy.windowSeconds} s. Retry after ${decision.retryAfterSeconds} s.`,
          'rate_limit_exceeded',
        );
      }
      await next();
    } finally {
      // Deleted at zero, so the map holds only keys with requests in progress.
      const left = inProgress.get(apiKeyId)! - 1;
      if (left === 0) inProgress.delete(apiKeyId);
      else inProgress.set(apiKeyId, left);
    }
  };
}
