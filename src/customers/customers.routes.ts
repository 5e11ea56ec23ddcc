import Router from '@koa/router';
import { callerOf, transactionOf, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import { toChecksumAddress, type AddressDeriver } from '../chains/derivation';
import type { Family } from '../domain/networks';
import type { Db } from '../db/database';
import { findCustomer, listCustomers } from './customers.repository';
import { PermissionError, ResourceMissingError } from '../domain/errors';
import { isId } from '../domain/ids';
import type { Mode } from '../domain/mode';
import type { Logger } from '../logger';
import { presentCustomers } from './customer.presenter';
import { customerOperations as operations } from './customers.schema';
import { archiveCustomer, createCustomer, updateCustomer } from './customers.service';

export function customerRoutes(deps: { db: Db; logger: Logger; derivers: Partial<Record<Mode, AddressDeriver>> }): Router<AppState> {
  const router = new Router<AppState>();

  route(router, operations.create, transaction(deps.db), idempotency(), async (ctx) => {
    const caller = callerOf(ctx);
    const deriver = deps.derivers[caller.mode];
    if (!deriver) {
      throw new PermissionError(
        `${caller.mode} mode is not enabled on this server: its operator has not configured INFLOW_XPUB_EVM_${caller.mode.toUpperCase()} and INFLOW_XPUB_TRON_${caller.mode.toUpperCase()}.`,
      );
    }
    const { customer } = await createCustomer(transactionOf(ctx), caller, inputOf(ctx, operations.create.body), deriver);
    return customer;
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { email, external_id: externalId, archived, address, search, ...page } = inputOf(ctx, operations.list.query);
    const owned = address === undefined ? undefined : depositAddress(address);
    return paginate(page, {
      fetch: (window) => listCustomers(deps.db, caller, { email, externalId, archived, address: owned, search }, window),
      exists: async (id) => (await findCustomer(deps.db, caller, id)) !== undefined,
      present: (rows) => presentCustomers(deps.db, caller, rows),
    });
  });

  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    // Another merchant's or mode's customer is as missing as one that never existed.
    const customer = isId('customer', id) ? await findCustomer(deps.db, caller, id) : undefined;
    if (!customer) throw new ResourceMissingError(`No such customer: '${id}'`, 'id');
    const [presented] = await presentCustomers(deps.db, caller, [customer]);
    return presented!;
  });

  route(router, operations.update, transaction(deps.db), async (ctx) => {
    return updateCustomer(transactionOf(ctx), callerOf(ctx), ctx.params.id ?? '', inputOf(ctx, operations.update.body));
  });

  route(router, operations.archive, transaction(deps.db), async (ctx) => {
    return archiveCustomer(transactionOf(ctx), callerOf(ctx), ctx.params.id ?? '');
  });

  return router;
}

/** A deposit address as customers' are stored: EVM checksummed (the schema lets any letter case through), Tron as given. */
function depositAddress(address: string): { family: Family; address: string } {
  return address.startsWith('0x') ? { family: 'evm', address: toChecksumAddress(Buffer.from(address.slice(2), 'hex')) } : { family: 'tron', address };
}
