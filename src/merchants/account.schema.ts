import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { idOf, trimmedText } from '../api/schema';
import { LOGO_MAX_BYTES, logoTypes } from './branding';
import { ApiKeyObject } from '../api-keys/api-keys.schema';

/** Who a key is: its merchant, its mode, and the key itself with its permissions. */
export const AccountObject = z
  .object({
    object: z.literal('account'),
    id: idOf('merchant').meta({ description: "The merchant's id: every object the key sees belongs to it." }),
    name: z.string().meta({ description: "The merchant's name." }),
    livemode: z.boolean(),
    mode: z.enum(['test', 'live']),
    api_key: ApiKeyObject.meta({ description: 'The key that made this request: its name, redacted form and permissions.' }),
    display_name: z.string().nullable().meta({ description: 'What payment pages call the merchant; `name` when null.' }),
    logo: z
      .object({ type: z.enum(logoTypes), bytes: z.number().int() })
      .nullable()
      .meta({ description: 'The logo payment pages show, served from inflow itself; null when none was set.' }),
  })
  .meta({ id: 'Account' });
export type AccountObject = z.infer<typeof AccountObject>;

export const UpdateAccountBody = z.strictObject({
  display_name: trimmedText()
    .min(1)
    .max(100)
    .nullable()
    .meta({ description: 'What payment pages call you (up to 100 characters); null to use `name`.' })
    .optional(),
  logo: z
    .string()
    .max(Math.ceil(LOGO_MAX_BYTES / 3) * 4 + 32)
    .regex(/^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/, 'must be a data: URL of a PNG, JPEG, GIF or WebP image, base64-encoded')
    .nullable()
    .meta({
      format: 'uri',
      description: `Your logo for payment pages as a \`data:\` URL (\`data:image/png;base64,…\`; PNG, JPEG, GIF or WebP, at most ${LOGO_MAX_BYTES / 1024} KB), or null to remove it. Kept by inflow and served from its own origin, so a payer's browser never asks a third party.`,
    })
    .optional(),
});

export const accountOperations = {
  retrieve: defineOperation({
    operationId: 'retrieveAccount',
    method: 'get',
    path: '/account',
    tag: 'Account',
    summary: 'Retrieve the account',
    description:
      "Who the key is: its merchant's id and name, its mode, and the key itself (id, name, redacted form, permissions, expiry). Any key may ask, whatever its permissions: a tool can check which merchant and mode a key belongs to before it does anything else.",
    response: AccountObject,
  }),
  update: defineOperation({
    operationId: 'updateAccount',
    method: 'patch',
    path: '/account',
    tag: 'Account',
    resource: 'account',
    summary: 'Update the account',
    description:
      "What payment pages show of the merchant: its `display_name` and `logo` (both modes' pages). Fields left out are unchanged. An image whose bytes are not of the type its data: URL says is a 400 `logo_invalid`. Needs write access to `account`.",
    body: UpdateAccountBody,
    response: AccountObject,
  }),
};
