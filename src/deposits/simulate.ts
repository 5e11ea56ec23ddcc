/**
 * Test mode's simulated deposit: a well-formed transfer to a customer's or an order's address, recorded in the
 * request's transaction exactly as the deposit workflow would record it, with that workflow (which
 * runs the simulated confirmations) queued to start once the transaction has committed.
 */
import { randomBytes } from 'node:crypto';
import { toChecksumAddress } from '../chains/derivation';
import { tronAddressFromAccountId } from '../chains/tron/address';
import type { Executor, Tenant } from '../db/database';
import { addressesOfCustomers, findCustomer } from '../customers/customers.repository';
import { findOrder } from '../orders/orders.repository';
import type { Deposit } from './deposits.table';
import type { Order } from '../orders/orders.table';
import { InvalidRequestError, ResourceMissingError } from '../domain/errors';
import { newId } from '../domain/ids';
import { AmountFormatError, parseAmount } from '../domain/money';
import { currenciesOf, currencyOn, networks, type Network } from '../domain/networks';
import type { DepositTransfer } from '../domain/transfers';
import { queueSimulatedDeposit } from '../outbox/queue';
import { recordDetectedDeposit } from './transitions';

export interface SimulateDepositInput {
  customer_id?: string | undefined;
  order_id?: string | undefined;
  /** Required with customer_id; an order's own by default. */
  network?: Network | undefined;
  currency?: string | undefined;
  /** Required with customer_id; an order's amount in full by default. */
  amount?: string | undefined;
  outcome: 'completed' | 'failed';
}

export async function simulateDeposit(
  transaction: Executor,
  tenant: Tenant,
  input: SimulateDepositInput,
  options: { blockTimeMs?: number | undefined },
): Promise<Deposit> {
  const order = input.order_id === undefined ? undefined : await orderToPay(transaction, tenant, input.order_id, input);
  const network = (order?.network ?? input.network!) as Network;
  const currencyName = order?.currency ?? input.currency!;
  const currency = currencyOn(network, currencyName);
  if (!currency) {
    throw new InvalidRequestError(`${currencyName} is not supported on ${network}; choose one of ${currenciesOf(network).join(', ')}.`, 'currency');
  }
  let amount: bigint;
  try {
    // Paying an order, the amount defaults to the order's, in full.
    amount = input.amount === undefined ? BigInt(order!.amount) : parseAmount(input.amount, currency.decimals);
    if (amount === 0n) throw new AmountFormatError(`"${input.amount}" is zero; a deposit moves something`);
  } catch (error) {
    if (error instanceof AmountFormatError) {
      throw new InvalidRequestError(`Invalid amount: ${error.message} (${currencyName} has ${currency.decimals} decimals).`, 'amount');
    }
    throw error;
  }
  const family = networks[network].family;
  let customerId = order?.customer_id ?? null;
  let address = order?.address;
  if (!order) {
    const customer = await findCustomer(transaction, tenant, input.customer_id!);
    if (!customer) throw new ResourceMissingError(`No such customer: '${input.customer_id}'`, 'customer_id');
    customerId = customer.id;
    address = (await addressesOfCustomers(transaction, tenant, [customer.id])).get(customer.id)![family];
  }

  // Random every time, never derived from the Idempotency-Key: a retry with the key is answered
  // from the stored response (saved in this same transaction), so it never gets here, while a key
  // reused after the 24 h purge is a new request that must not land on an old deposit's hash.
  const transactionId = randomBytes(32).toString('hex');
  const transfer: DepositTransfer = {
    depositId: newId('deposit'),
    merchantId: tenant.merchantId,
    livemode: false,
    customerId,
    orderId: order?.id ?? null,
    network,
    currency: currencyName,
    decimals: currency.decimals,
    address: address!,
    fromAddress: family === 'tron' ? tronAddressFromAccountId(randomBytes(20)) : toChecksumAddress(randomBytes(20)),
    // Well-formed: EVM hashes carry 0x, Tron transaction ids do not.
    transactionHash: family === 'tron' ? transactionId : `0x${transactionId}`,
    logIndex: 0,
    blockNumber: null,
    blockHash: `0x${randomBytes(32).toString('hex')}`,
    // Made now, as far as an order's deadline is concerned.
    blockTime: Date.now(),
    amount: amount.toString(),
    requiredConfirmations: networks[network].requiredConfirmations,
    simulated: true,
  };
  // Recorded here, with `deposit.detected` and its deliveries; the workflow queued with it records
  // the same transfer first thing, finds it, and starts those deliveries (emittedBefore).
  const { deposit } = await recordDetectedDeposit(transaction, transfer);
  await queueSimulatedDeposit(transaction, transfer, {
    requiredConfirmations: transfer.requiredConfirmations,
    blockTimeMs: options.blockTimeMs ?? networks[network].blockTimeMs,
    blockHash: transfer.blockHash!,
    outcome: input.outcome,
  });
  return deposit;
}

/** The order a simulated transfer pays; a network or currency sent with it must be the order's. */
async function orderToPay(transaction: Executor, tenant: Tenant, orderId: string, input: SimulateDepositInput): Promise<Order> {
  const order = await findOrder(transaction, tenant, orderId);
  if (!order) throw new ResourceMissingError(`No such order: '${orderId}'`, 'order_id');
  for (const [field, value] of [
    ['network', order.network],
    ['currency', order.currency],
  ] as const) {
    if (input[field] !== undefined && input[field] !== value) {
      throw new InvalidRequestError(`The order is paid in ${order.currency} on ${order.network}; omit ${field} or send '${value}'.`, field);
    }
  }
  return order;
}
