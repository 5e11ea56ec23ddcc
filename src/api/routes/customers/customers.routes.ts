import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { AddressDeriver } from '../../../chains/derivation';
import { createCustomer, presentCustomers } from '../../../customers';
import type { Db } from '../../../db/database';
import { findCustomer, listCustomers } from '../../../db/repositories/customers.repository';
import type { Mode } from '../../../domain/api-keys';
import { PermissionError, ResourceMissingError } from '../../../domain/errors';
import { isId } from '../../../domain/ids';
import type { Logger } from '../../../logger';
import { afterCommit, callerOf, transactionOf, type AppState } from '../../context';
import { startEventDispatch } from '../events/dispatch';
import { idempotency } from '../../middleware/idempotency';
import { inputOf, validate } from '../../middleware/validate';
import { paginate } from '../../pagination';
import { CreateCustomerBody, ListCustomersQuery } from './customers.schema';

export function customerRoutes(deps: { db: Db; logger: Logger; temporal: Client; taskQueue: string; derivers: Partial<Record<Mode, AddressDeriver>> }): Router<AppState> {
  const router = new Router<AppState>();

  router.post('/customers', validate(CreateCustomerBody), idempotency(deps.db, deps.logger), async (ctx) => {
    const caller = callerOf(ctx);
    const deriver = deps.derivers[caller.mode];
    if (!deriver) {
      throw new PermissionError(`${caller.mode} mode is not enabled on this server: its operator has not configured INFLOW_XPUB_EVM_${caller.mode.toUpperCase()} and INFLOW_XPUB_TRON_${caller.mode.toUpperCase()}.`);
    }
    const { customer, eventId } = await createCustomer(transactionOf(ctx), caller, inputOf(ctx, CreateCustomerBody), deriver);
    afterCommit(ctx, () => startEventDispatch(deps, eventId));
    ctx.body = customer;
  });

  router.get('/customers', validate(ListCustomersQuery), async (ctx) => {
    const caller = callerOf(ctx);
    const query = inputOf(ctx, ListCustomersQuery);
    ctx.body = await paginate(query, {
      fetch: (limit, startingAfter) => listCustomers(deps.db, caller, { limit, startingAfter }),
      exists: async (id) => (await findCustomer(deps.db, caller, id)) !== undefined,
      present: (rows) => presentCustomers(deps.db, caller, rows),
    });
  });

  router.get('/customers/:id', async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    // Another merchant's or mode's customer is as missing as one that never existed.
    const customer = isId('customer', id) ? await findCustomer(deps.db, caller, id) : undefined;
    if (!customer) throw new ResourceMissingError(`No such customer: '${id}'`, 'id');
    [ctx.body] = await presentCustomers(deps.db, caller, [customer]);
  });

  return router;
}
