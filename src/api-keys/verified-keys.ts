/**
 * The keys this API process verified in the last second, by hash: a request with a key it has just
 * seen costs no lookup, so a busy key's reads are one database round trip fewer. A key deleted or
 * rolled through this process is forgotten at once; through another process (or the command
 * line), within VERIFIED_KEY_TTL_MS. Each use still checks the key's own expiry (a rolled key's
 * grace period) against the caller's clock. Only keys that verified are kept: a refused key is
 * looked up every time, so every refusal costs the same.
 */
import type { ApiKey } from './api-keys.table';

/** How long a verified key is taken on trust: the most a revocation made elsewhere waits to apply. */
export const VERIFIED_KEY_TTL_MS = 1_000;
/** Bounds the memory a flood of distinct valid keys could take; the oldest go first. */
const MAX_KEYS = 10_000;

export class VerifiedKeys {
  private readonly byHash = new Map<string, { key: ApiKey; until: number }>();

  constructor(
    private readonly ttlMs = VERIFIED_KEY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key verified under this hash within the TTL and still unexpired at `at`, if any. */
  get(hash: string, at: Date): ApiKey | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    if (entry.until <= this.now() || (entry.key.expires_at !== null && entry.key.expires_at <= at)) {
      this.byHash.delete(hash);
      return undefined;
    }
    return entry.key;
  }

  remember(hash: string, key: ApiKey): void {
    this.byHash.delete(hash);
    if (this.byHash.size >= MAX_KEYS) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(hash, { key, until: this.now() + this.ttlMs });
  }

  /** A key deleted or rolled here: refused from the next request on. */
  forget(keyId: string): void {
    for (const [hash, entry] of this.byHash) if (entry.key.id === keyId) this.byHash.delete(hash);
  }
}
