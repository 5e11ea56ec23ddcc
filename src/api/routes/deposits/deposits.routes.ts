import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Middleware } from 'koa';
import { tronAddressFromAccountId } from '../../../chains/tron/address';
import { toChecksumAddress } from '../../../chains/derivation';
import type { Db } from '../../../db/database';
import type { Logger } from '../../../logger';
import { findCustomer, addressesOfCustomers } from '../../../db/repositories/customers.repository';
import { findDeposit, listDeposits } from '../../../db/repositories/deposits.repository';
import { depositObject, recordDetectedDeposit, type DepositTransfer } from '../../../deposits';
import { InvalidRequestError, PermissionError, ResourceMissingError } from '../../../domain/errors';
import { newId } from '../../../domain/ids';
import { AmountFormatError, parseAmount } from '../../../domain/money';
import { currenciesOf, currencyOn, networks, type Network } from '../../../domain/networks';
import { depositWorkflowId, simulationWorkflowId } from '../../../workflows/definitions';
import type { depositWorkflow } from '../../../workflows/deposit.workflow';
import type { simulatedConfirmationsWorkflow } from '../../../workflows/simulated-confirmations.workflow';
import { callerOf, type AppState } from '../../context';
import { idempotency } from '../../middleware/idempotency';
import { inputOf, validate } from '../../middleware/validate';
import { paginate } from '../../pagination';
import { ListDepositsQuery, SimulateDepositBody } from './deposits.schema';

export interface DepositRouteDeps {
  db: Db;
  logger: Logger;
  temporal: Client;
  taskQueue: string;
  /** Overrides every network's block time for simulated confirmations (tests, demos). */
  simulatedBlockTimeMs?: number | undefined;
}

export function depositRoutes(deps: DepositRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  router.get('/deposits', validate(ListDepositsQuery), async (ctx) => {
    const caller = callerOf(ctx);
    const { customer_id, status, network, ...page } = inputOf(ctx, ListDepositsQuery);
    ctx.body = await paginate(page, {
      fetch: (limit, startingAfter) => listDeposits(deps.db, caller, { customer_id, status, network }, { limit, startingAfter }),
      exists: async (id) => (await findDeposit(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(depositObject),
    });
  });

  router.post('/deposits/simulate', requireTestMode, validate(SimulateDepositBody), idempotency(deps.db, deps.logger), async (ctx) => {
    const caller = callerOf(ctx);
    const input = inputOf(ctx, SimulateDepositBody);
    const network: Network = input.network;
    const currency = currencyOn(network, input.currency);
    if (!currency) {
      throw new InvalidRequestError(`${input.currency} is not supported on ${network}; choose one of ${currenciesOf(network).join(', ')}.`, 'currency');
    }
    let amount: bigint;
    try {
      amount = parseAmount(input.amount, currency.decimals);
    } catch (error) {
      if (error instanceof AmountFormatError) throw new InvalidRequestError(`Invalid amount: ${error.message} (${input.currency} has ${currency.decimals} decimals).`, 'amount');
      throw error;
    }
    const customer = await findCustomer(deps.db, caller, input.customer_id);
    if (!customer) throw new ResourceMissingError(`No such customer: '${input.customer_id}'`, 'customer_id');
    const addresses = (await addressesOfCustomers(deps.db, caller, [customer.id])).get(customer.id)!;

    const family = networks[network].family;
    // Random, unless an Idempotency-Key names the request: then a retry after a lost answer
    // finds the same transfer, the same workflows and the same deposit instead of a second one.
    const idempotencyKey = ctx.get('Idempotency-Key');
    const transactionId = idempotencyKey
      ? createHash('sha256').update(`${caller.merchantId}\n${idempotencyKey}`).digest('hex')
      : randomBytes(32).toString('hex');
    const transfer: DepositTransfer = {
      depositId: newId('deposit'),
      merchantId: caller.merchantId,
      livemode: false,
      customerId: customer.id,
      network,
      currency: input.currency,
      decimals: currency.decimals,
      address: addresses[family],
      fromAddress: family === 'tron' ? tronAddressFromAccountId(randomBytes(20)) : toChecksumAddress(randomBytes(20)),
      // Well-formed: EVM hashes carry 0x, Tron transaction ids do not.
      transactionHash: family === 'tron' ? transactionId : `0x${transactionId}`,
      logIndex: 0,
      blockNumber: null,
      blockHash: `0x${randomBytes(32).toString('hex')}`,
      amount: amount.toString(),
      requiredConfirmations: networks[network].requiredConfirmations,
      simulated: true,
    };
    const workflowId = depositWorkflowId(transfer);
    await startOnce(() =>
      deps.temporal.workflow.start<typeof depositWorkflow>('depositWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ transfer }],
      }),
    );
    await startOnce(() => deps.temporal.workflow.start<typeof simulatedConfirmationsWorkflow>('simulatedConfirmationsWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: simulationWorkflowId(workflowId),
      args: [
        {
          depositWorkflowId: workflowId,
          requiredConfirmations: transfer.requiredConfirmations,
          blockTimeMs: deps.simulatedBlockTimeMs ?? networks[network].blockTimeMs,
          blockHash: transfer.blockHash!,
          outcome: input.outcome,
        },
      ],
    }));
    // The workflow records the deposit too; whichever comes first writes it, once.
    ctx.body = depositObject((await recordDetectedDeposit(deps.db, transfer)).deposit);
  });

  router.get('/deposits/:id', async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    const deposit = await findDeposit(deps.db, caller, id);
    if (!deposit) throw new ResourceMissingError(`No such deposit: '${id}'`, 'id');
    ctx.body = depositObject(deposit);
  });

  return router;
}

/** Starting a workflow whose id is taken is fine here: it is the same request, retried. */
async function startOnce(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

const requireTestMode: Middleware<AppState> = async (ctx, next) => {
  if (callerOf(ctx).livemode) {
    throw new PermissionError('Simulated deposits exist only in test mode: use a sk_test_ key.');
  }
  await next();
};
