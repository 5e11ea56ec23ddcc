import Router from '@koa/router';
import type { AddressDeriver } from '../../../chains/derivation';
import { createCustomer, presentCustomers } from '../../../customers';
import type { Db } from '../../../db/database';
import { findCustomer, listCustomers } from '../../../db/repositories/customers.repository';
import type { Mode } from '../../../domain/api-keys';
import { ResourceMissingError } from '../../../domain/errors';
import { callerOf, transactionOf, type AppState } from '../../context';
import { idempotency } from '../../middleware/idempotency';
import { inputOf, validate } from '../../middleware/validate';
import { paginate } from '../../pagination';
import { CreateCustomerBody, CustomerIdParam, ListCustomersQuery } from './customers.schema';

export function customerRoutes(deps: { db: Db; derivers: Record<Mode, AddressDeriver> }): Router<AppState> {
  const router = new Router<AppState>();

  router.post('/customers', validate(CreateCustomerBody), idempotency(deps.db), async (ctx) => {
    const caller = callerOf(ctx);
    ctx.body = await createCustomer(transactionOf(ctx), caller, inputOf(ctx, CreateCustomerBody), deps.derivers[caller.mode]);
  });

  router.get('/customers', validate(ListCustomersQuery), async (ctx) => {
    const caller = callerOf(ctx);
    const query = inputOf(ctx, ListCustomersQuery);
    ctx.body = await paginate(query, {
      fetch: (limit, startingAfter) => listCustomers(deps.db, caller, { limit, startingAfter }),
      exists: async (id) => (await findCustomer(deps.db, caller, id)) !== undefined,
      present: (rows) => presentCustomers(deps.db, rows),
    });
  });

  router.get('/customers/:id', async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    // Another merchant's or mode's customer is as missing as one that never existed.
    const customer = CustomerIdParam.safeParse(id).success ? await findCustomer(deps.db, caller, id) : undefined;
    if (!customer) throw new ResourceMissingError(`No such customer: '${id}'`, 'id');
    [ctx.body] = await presentCustomers(deps.db, [customer]);
  });

  return router;
}
