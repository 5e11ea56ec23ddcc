/** An API key as the API shows it: never its secret, except in the answer that made it. */
import type { ApiKey } from './api-keys.table';
import type { ApiKeyObject } from './api-keys.schema';

export function apiKeyObject(key: ApiKey, secret?: string): ApiKeyObject {
  return {
    id: key.id,
    object: 'api_key',
    livemode: key.livemode,
    name: key.name,
    redacted: key.redacted,
    permissions: key.permissions,
    created_at: key.created_at.toISOString(),
    expires_at: key.expires_at?.toISOString() ?? null,
    rolled_to: key.rolled_to,
    ...(secret !== undefined ? { secret } : {}),
  };
}
