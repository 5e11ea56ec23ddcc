/**
 * Test mode's simulated deposit: a well-formed transfer to the customer's address, recorded in the
 * request's transaction exactly as the deposit workflow would record it, and what that workflow
 * and its simulator need once the transaction has committed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { toChecksumAddress } from '../chains/derivation';
import { tronAddressFromAccountId } from '../chains/tron/address';
import type { Executor, Tenant } from '../db/database';
import { addressesOfCustomers, findCustomer } from '../db/repositories/customers.repository';
import type { Deposit } from '../db/tables/deposits.table';
import { InvalidRequestError, ResourceMissingError } from '../domain/errors';
import { newId } from '../domain/ids';
import { AmountFormatError, parseAmount } from '../domain/money';
import { currenciesOf, currencyOn, networks, type Network } from '../domain/networks';
import type { DepositTransfer, SimulatedConfirmationsInput } from '../workflows/definitions';
import { recordDetectedDeposit } from './transitions';

export interface SimulateDepositInput {
  customer_id: string;
  network: Network;
  currency: string;
  amount: string;
  outcome: 'completed' | 'failed';
}

export interface SimulatedDeposit {
  deposit: Deposit;
  transfer: DepositTransfer;
  /** The simulator's settings, for startSimulatedDeposit once the deposit is committed. */
  simulation: Omit<SimulatedConfirmationsInput, 'depositWorkflowId'>;
}

export async function simulateDeposit(
  transaction: Executor,
  tenant: Tenant,
  input: SimulateDepositInput,
  options: { idempotencyKey?: string | undefined; blockTimeMs?: number | undefined },
): Promise<SimulatedDeposit> {
  const { network } = input;
  const currency = currencyOn(network, input.currency);
  if (!currency) {
    throw new InvalidRequestError(`${input.currency} is not supported on ${network}; choose one of ${currenciesOf(network).join(', ')}.`, 'currency');
  }
  let amount: bigint;
  try {
    amount = parseAmount(input.amount, currency.decimals);
  } catch (error) {
    if (error instanceof AmountFormatError)
      throw new InvalidRequestError(`Invalid amount: ${error.message} (${input.currency} has ${currency.decimals} decimals).`, 'amount');
    throw error;
  }
  const customer = await findCustomer(transaction, tenant, input.customer_id);
  if (!customer) throw new ResourceMissingError(`No such customer: '${input.customer_id}'`, 'customer_id');
  const addresses = (await addressesOfCustomers(transaction, tenant, [customer.id])).get(customer.id)!;

  const family = networks[network].family;
  // Random, unless an Idempotency-Key names the request: then a retry finds the same transfer,
  // the same workflows and the same deposit instead of a second one.
  const transactionId = options.idempotencyKey
    ? createHash('sha256').update(`${tenant.merchantId}\n${options.idempotencyKey}`).digest('hex')
    : randomBytes(32).toString('hex');
  const transfer: DepositTransfer = {
    depositId: newId('deposit'),
    merchantId: tenant.merchantId,
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
  // The workflow records the deposit too; whichever comes first writes it, once.
  const { deposit } = await recordDetectedDeposit(transaction, transfer);
  return {
    deposit,
    transfer,
    simulation: {
      requiredConfirmations: transfer.requiredConfirmations,
      blockTimeMs: options.blockTimeMs ?? networks[network].blockTimeMs,
      blockHash: transfer.blockHash!,
      outcome: input.outcome,
    },
  };
}
