import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { idOf } from '../api/schema';
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
  })
  .meta({ id: 'Account' });
export type AccountObject = z.infer<typeof AccountObject>;

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
};
