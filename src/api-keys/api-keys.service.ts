/** Making, rolling and deleting API keys: for merchants through the API, and for operators (`merchant create`). */
import type { Caller } from '../api/context';
import type { Executor } from '../db/database';
import { insertApiKey, lockActiveApiKeys, revokeApiKey, setApiKeyRolled } from './api-keys.repository';
import type { ApiKey } from './api-keys.table';
import { generateApiKey, hashApiKey, redactApiKey } from '../domain/api-keys';
import { InvalidRequestError, PermissionError, StateConflictError } from '../domain/errors';
import { newId } from '../domain/ids';
import { livemodeOf, type Mode } from '../domain/mode';
import { exceeding, grantsOf, normalizePermissions, type Permissions } from '../domain/permissions';
import { sealApiKey } from '../merchants/sealed-keys';

/** Working keys per merchant and mode. */
export const MAX_WORKING_KEYS = 50;

export interface IssuedApiKey {
  key: ApiKey;
  /** The key in plain text: it exists only in this value; the database keeps its hash (and a sealed copy when the server has INFLOW_SECRET_KEY). */
  secret: string;
}

/**
 * Makes a key. `secretKey` (INFLOW_SECRET_KEY) seals a copy, with which order callbacks are signed;
 * without it the key works but never signs.
 */
export async function issueApiKey(
  db: Executor,
  owner: { merchantId: string; mode: Mode },
  options: { name?: string; permissions?: Permissions; secretKey: Buffer | undefined },
): Promise<IssuedApiKey> {
  const secret = generateApiKey(owner.mode);
  const id = newId('apiKey');
  const key = await insertApiKey(db, {
    id,
    merchant_id: owner.merchantId,
    livemode: livemodeOf(owner.mode),
    key_hash: hashApiKey(secret),
    redacted: redactApiKey(secret),
    sealed_key: options.secretKey ? sealApiKey(secret, options.secretKey, id) : null,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.permissions !== undefined ? { permissions: JSON.stringify(normalizePermissions(options.permissions)) } : {}),
  });
  return { key, secret };
}

/** A key made through the API: never with more permissions than the key that asks for it. */
export async function createApiKey(
  db: Executor,
  caller: Caller,
  input: { name: string; permissions: Permissions },
  { secretKey, now }: { secretKey: Buffer; now: Date },
): Promise<IssuedApiKey> {
  refuseExceeding(caller, input.permissions, 'permissions', 'create a key with');
  // Rate limits are per key, so unlimited keys would be unlimited quota.
  const working = await lockActiveApiKeys(db, caller, now);
  if (working.length >= MAX_WORKING_KEYS) {
    throw new InvalidRequestError(
      `This mode has ${working.length} working API keys, the most it may have: delete one first.`,
      undefined,
      'api_key_limit_reached',
    );
  }
  return issueApiKey(db, caller, { ...input, secretKey });
}

/**
 * Replaces a key with a new one of the same name and permissions; the old one works `graceSeconds`
 * more, so the merchant can deploy the new key before the old stops. A key is rolled once: its
 * successor is the one to roll next.
 */
export async function rollApiKey(
  db: Executor,
  caller: Caller,
  key: ApiKey,
  options: { graceSeconds: number; now: Date; secretKey: Buffer },
): Promise<IssuedApiKey> {
  refuseExceeding(caller, key.permissions, undefined, 'roll a key with');
  // Locked, so two rolls of one key cannot both succeed.
  const working = await lockActiveApiKeys(db, caller, options.now);
  const current = working.find((candidate) => candidate.id === key.id);
  if (!current || current.rolled_to !== null) {
    // A state the key will not leave, not a malformed request: 409, as a retry cannot succeed either.
    throw new StateConflictError(
      `This key was rolled already${key.rolled_to ? ` (to ${key.rolled_to})` : ''}: roll its successor instead.`,
      undefined,
      'api_key_already_rolled',
    );
  }
  const successor = await issueApiKey(db, caller, { name: key.name, permissions: key.permissions, secretKey: options.secretKey });
  await setApiKeyRolled(db, key.id, successor.key.id, new Date(options.now.getTime() + options.graceSeconds * 1000));
  return successor;
}

/** Stops a key at once; the mode's last full-access key that is not on its way out stays, so the merchant is never locked out. */
export async function deleteApiKey(db: Executor, caller: Caller, key: ApiKey, now: Date): Promise<void> {
  refuseExceeding(caller, key.permissions, undefined, 'delete a key with');
  const working = await lockActiveApiKeys(db, caller, now);
  const lasting = (candidate: ApiKey) => normalizePermissions(candidate.permissions) === 'full' && candidate.expires_at === null;
  if (lasting(key) && !working.some((candidate) => candidate.id !== key.id && lasting(candidate))) {
    throw new InvalidRequestError(
      'This is the last full-access key of this mode and cannot be deleted. Roll it to replace it, or create another full-access key first.',
      undefined,
      'last_full_key',
    );
  }
  await revokeApiKey(db, key.id, now);
}

function refuseExceeding(caller: Caller, permissions: Permissions, param: string | undefined, action: string): void {
  const over = exceeding(caller.grants, grantsOf(permissions));
  if (over.length > 0) {
    throw new PermissionError(
      `This API key cannot ${action} more permissions than its own (${over.map((resource) => `${resource}: ${caller.grants[resource]}`).join(', ')}).`,
      param,
      'api_key_permission_exceeded',
    );
  }
}
