/** How long an Idempotency-Key is remembered: a replay within it gets the first answer; the hourly purge deletes older ones. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
