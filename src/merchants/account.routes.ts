import Router from '@koa/router';
import { callerOf, type AppState, type Caller } from '../api/context';
import { inputOf } from '../api/middleware/validate';
import type { ApiKey } from '../api-keys/api-keys.table';
import { route } from '../api/operation';
import { findApiKey } from '../api-keys/api-keys.repository';
import { apiKeyObject } from '../api-keys/api-key.presenter';
import type { Db } from '../db/database';
import { AuthenticationError } from '../domain/errors';
import { accountOperations as operations, type AccountObject } from './account.schema';
import { decodeLogo, type LogoType } from './branding';
import { findMerchantById, updateMerchant } from './merchants.repository';
import type { Merchant } from './merchants.table';

function accountObject(merchant: Merchant, caller: Caller, key: ApiKey): AccountObject {
  return {
    object: 'account',
    id: merchant.id,
    name: merchant.name,
    livemode: caller.livemode,
    mode: caller.mode,
    api_key: apiKeyObject(key),
    display_name: merchant.display_name,
    logo: merchant.logo && merchant.logo_type ? { type: merchant.logo_type as LogoType, bytes: merchant.logo.length } : null,
  };
}

/** `GET /account`: the caller's merchant, mode and key; `PATCH /account`: what payment pages show of the merchant. */
export function accountRoutes(deps: { db: Db; clock?: (() => Date) | undefined }): Router<AppState> {
  const router = new Router<AppState>();
  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    const now = (deps.clock ?? (() => new Date()))();
    const [merchant, key] = await Promise.all([findMerchantById(deps.db, caller.merchantId), findApiKey(deps.db, caller, caller.apiKeyId, now)]);
    // Auth has just found the key active: only one that expired or was deleted since is missing.
    if (!merchant || !key) throw new AuthenticationError('This API key expired or was deleted while the request was made: use an active key.');
    return accountObject(merchant, caller, key);
  });
  route(router, operations.update, async (ctx) => {
    const caller = callerOf(ctx);
    const input = inputOf(ctx, operations.update.body);
    const logo = input.logo === undefined ? undefined : input.logo === null ? null : decodeLogo(input.logo);
    const update = {
      ...(input.display_name === undefined ? {} : { display_name: input.display_name }),
      ...(logo === undefined ? {} : { logo: logo?.bytes ?? null, logo_type: logo?.type ?? null }),
    };
    // An empty body changes nothing and answers the account as it is.
    const merchant =
      Object.keys(update).length > 0 ? await updateMerchant(deps.db, caller.merchantId, update) : await findMerchantById(deps.db, caller.merchantId);
    if (!merchant) throw new AuthenticationError('This API key expired or was deleted while the request was made: use an active key.');
    const key = await findApiKey(deps.db, caller, caller.apiKeyId, (deps.clock ?? (() => new Date()))());
    if (!key) throw new AuthenticationError('This API key expired or was deleted while the request was made: use an active key.');
    return accountObject(merchant, caller, key);
  });
  return router;
}
