import { sql } from 'kysely';
import type { RateLimitState, RatePolicy } from '../domain/rate-limits';
import type { Executor } from '../db/database';

const microseconds = (value: number) => sql`(${value}::float8 * interval '1 microsecond')`;

/**
 * Counts one request against a key's policy and says whether it is admitted: GCRA in one
 * statement, so it is one round trip and two API processes can never both take the last unit
 * (the upsert locks the key's row; the second waits and then sees the first one's write).
 *
 * The clock is Postgres's (`statement_timestamp()`), the one clock every API process shares. The
 * stored arrival time is pulled back to at most one capacity ahead of now before it is used, so a
 * lowered limit or a database clock that stepped back cannot lock a key out for longer than one
 * window. A refused request moves nothing forward: retrying early costs the client no quota.
 */
export async function consumeRateLimit(db: Executor, apiKeyId: string, policy: RatePolicy, units = 1): Promise<RateLimitState> {
  const now = sql`statement_timestamp()`;
  const emission = microseconds(policy.emissionIntervalUs);
  const limit = sql`(${now} + ${microseconds(policy.capacityUs)})`;
  const arrival = sql`least(greatest(rate_limits.theoretical_arrival_at, ${now}), ${limit})`;
  // As many of the units asked for as fit under the limit (a request asks for one; a lease for more).
  const room = sql`floor(round(extract(epoch from ${limit} - ${arrival}) * 1000000) / ${policy.emissionIntervalUs}::float8)::int`;
  const granted = sql`greatest(0, least(${units}::int, ${room}))`;
  const first = Math.min(units, policy.quota);
  const { rows } = await sql<{ granted: number; ahead_us: number }>`
    insert into rate_limits (api_key_id, policy, theoretical_arrival_at, last_admitted, last_granted)
    values (${apiKeyId}, ${policy.name}, ${now} + ${microseconds(first * policy.emissionIntervalUs)}, true, ${first})
    on conflict (api_key_id, policy) do update
       set theoretical_arrival_at = ${arrival} + ${granted} * ${emission},
           last_admitted = ${granted} > 0,
           last_granted = ${granted}
    returning last_granted as granted,
              round(extract(epoch from theoretical_arrival_at - ${now}) * 1000000)::float8 as ahead_us`.execute(db);
  const row = rows[0]!;
  return { admitted: row.granted > 0, granted: row.granted, aheadUs: row.ahead_us };
}
