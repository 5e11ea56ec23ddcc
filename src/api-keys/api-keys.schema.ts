import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { deletedObject, idOf, listOf, Timestamp, trimmedText } from '../api/schema';
import { accessLevels, resources } from '../domain/permissions';

/** Seven days: the longest a rolled key keeps working beside its successor. */
export const MAX_ROLL_GRACE_SECONDS = 7 * 24 * 60 * 60;

export const PermissionsSchema = z
  .union([
    z.literal('full'),
    z.literal('read_only'),
    z.strictObject(
      Object.fromEntries(resources.map((resource) => [resource, z.enum(accessLevels).optional()])) as Record<
        (typeof resources)[number],
        z.ZodOptional<z.ZodEnum<{ read: 'read'; write: 'write' }>>
      >,
    ),
  ])
  .meta({
    id: 'Permissions',
    description: `\`full\`, \`read_only\`, or a map from resource (${resources.join(', ')}) to \`read\` or \`write\` (write includes read; a resource left out is refused with 403).`,
  });

export const CreateApiKeyBody = z.strictObject({
  name: trimmedText().min(1).max(100),
  permissions: PermissionsSchema,
});

export const RollApiKeyBody = z.strictObject({
  expires_in: z
    .number()
    .int()
    .min(0)
    .max(MAX_ROLL_GRACE_SECONDS)
    .default(0)
    .meta({ description: 'Seconds the old key keeps working beside the new one: 0 (the default) stops it now, at most 604800 (7 days).' }),
});

export const ListApiKeysQuery = z.strictObject({ ...paginationParams('apiKey') });

export const ApiKeyObject = z
  .object({
    id: idOf('apiKey'),
    object: z.literal('api_key'),
    livemode: z.boolean(),
    name: z.string(),
    /** Enough to recognise the key: its prefix and last four characters. */
    redacted: z.string(),
    permissions: PermissionsSchema,
    created_at: Timestamp,
    expires_at: Timestamp.nullable().meta({ description: 'Set when the key was rolled: it works until then.' }),
    rolled_to: idOf('apiKey').nullable().meta({ description: 'The key a roll replaced this one with.' }),
    secret: z
      .string()
      .optional()
      .meta({ description: 'The key itself: only in the answer that made it (create, roll). Store it now; it is never shown again.' }),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyObject = z.infer<typeof ApiKeyObject>;

const tag = 'API keys';

export const apiKeyOperations = {
  create: defineOperation({
    operationId: 'createApiKey',
    method: 'post',
    path: '/api-keys',
    tag,
    resource: 'api_keys',
    summary: 'Create an API key',
    description:
      "Makes a key of the calling key's mode. Its permissions may not exceed the calling key's (403 `api_key_permission_exceeded`). The answer holds `secret`, shown this once. A mode has at most 50 working keys (400 `api_key_limit_reached` past that: delete one first). `Idempotency-Key` is not honoured here: a replay would have to keep the secret, and inflow stores only its hash.",
    body: CreateApiKeyBody,
    response: ApiKeyObject,
  }),
  list: defineOperation({
    operationId: 'listApiKeys',
    method: 'get',
    path: '/api-keys',
    tag,
    resource: 'api_keys',
    summary: 'List API keys',
    description: "The mode's working keys, rolled keys in their grace period included (an expired or deleted key is gone). Never their secrets.",
    query: ListApiKeysQuery,
    response: listOf(ApiKeyObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveApiKey',
    method: 'get',
    path: '/api-keys/:id',
    pathId: 'apiKey',
    tag,
    resource: 'api_keys',
    summary: 'Retrieve an API key',
    response: ApiKeyObject,
  }),
  roll: defineOperation({
    operationId: 'rollApiKey',
    method: 'post',
    path: '/api-keys/:id/roll',
    pathId: 'apiKey',
    tag,
    resource: 'api_keys',
    summary: 'Roll an API key',
    description:
      'Makes a new key with the same name and permissions, answered with its `secret`, and lets the old key work for `expires_in` seconds more (up to 7 days) so the new one can be deployed first. Order callbacks stay signed with the old key until it stops, then with the new one.',
    body: RollApiKeyBody,
    response: ApiKeyObject,
    conflicts: { api_key_already_rolled: 'the key was rolled already; roll its successor (its `rolled_to`).' },
  }),
  delete: defineOperation({
    operationId: 'deleteApiKey',
    method: 'delete',
    path: '/api-keys/:id',
    pathId: 'apiKey',
    tag,
    resource: 'api_keys',
    summary: 'Delete an API key',
    description: "The key stops working at once. The mode's last working full-access key cannot be deleted (400 `last_full_key`): roll it instead.",
    response: deletedObject('api_key', 'apiKey'),
  }),
};
