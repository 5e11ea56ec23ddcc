import type { Middleware } from 'koa';
import { hashApiKey, modeOfKey } from '../../domain/api-keys';
import { livemodeOf } from '../../domain/mode';
import { grantsOf } from '../../domain/permissions';
import { AuthenticationError } from '../../domain/errors';
import type { Db } from '../../db/database';
import { findActiveApiKeyByHash } from '../../api-keys/api-keys.repository';
import type { VerifiedKeys } from '../../api-keys/verified-keys';
import type { AppState } from '../context';
import type { UnauthenticatedLimit } from './rate-limit';

const INVALID_KEY_MESSAGE = 'Invalid API key. Send it as Authorization: Bearer sk_test_… or sk_live_…; keys are shown once when made.';

/**
 * Authenticates `Authorization: Bearer sk_(test|live)_…` and sets ctx.state.caller; the mode
 * comes from the key's prefix. Every request, with a missing, malformed, unknown or revoked key
 * alike (and a rolled key past its grace period), pays for one hash and one indexed lookup and gets the same answer, so neither the
 * response nor its timing tells which part was wrong. An address whose recent requests had too
 * many refused keys is turned away before that (UnauthenticatedLimit, docs/limits.md); a request
 * with a valid key costs its address nothing. A key this process verified in the last second is
 * taken from `verified` without a lookup (deleted or rolled elsewhere, it works for that second more).
 */
export function auth(db: Db, clock: () => Date, unauthenticated?: UnauthenticatedLimit, verified?: VerifiedKeys): Middleware<AppState> {
  return async (ctx, next) => {
    // Before the hash and the query: an address that has flooded unknown keys costs nothing more.
    // Only checked, not spent: whether this key is valid is not known yet, and spending a token
    // on every request in flight would refuse a busy address's valid requests.
    unauthenticated?.check(ctx);
    const header = ctx.get('Authorization');
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1] ?? '';
    const hash = hashApiKey(presented);
    const now = clock();
    let stored = verified?.get(hash, now);
    if (!stored) {
      stored = await findActiveApiKeyByHash(db, hash, now);
      if (stored) verified?.remember(hash, stored);
    }
    const mode = modeOfKey(presented);
    if (!stored || !mode || stored.livemode !== livemodeOf(mode)) {
      unauthenticated?.charge(ctx);
      ctx.set('WWW-Authenticate', 'Bearer realm="inflow"');
      throw new AuthenticationError(INVALID_KEY_MESSAGE);
    }
    ctx.state.caller = {
      merchantId: stored.merchant_id,
      apiKeyId: stored.id,
      mode,
      livemode: stored.livemode,
      grants: grantsOf(stored.permissions),
    };
    return next();
  };
}
