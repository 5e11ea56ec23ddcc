import { randomBytes } from 'node:crypto';
import { createCustomer } from '../../src/customers';
import type { Db } from '../../src/db/database';
import type { DepositTransfer } from '../../src/deposits';
import { newId } from '../../src/domain/ids';
import { parseAmount } from '../../src/domain/money';
import { currencyOn, networks, type Network } from '../../src/domain/networks';
import { createMerchant } from '../../src/merchants';
import { testDerivers } from './wallets';

/** A merchant with one test-mode customer, straight into the database. */
export async function seedCustomer(db: Db) {
  const merchant = await createMerchant(db, 'Deposits Ltd');
  const tenant = { merchantId: merchant.merchant_id, livemode: false };
  const { customer } = await db.transaction().execute((transaction) => createCustomer(transaction, tenant, {}, testDerivers().test));
  return { merchant, tenant, customer };
}

/** A well-formed transfer of `amount` (a decimal string) to the customer, with a fresh random hash. */
export function transferTo(
  seeded: Awaited<ReturnType<typeof seedCustomer>>,
  options: { network?: Network; currency?: string; amount: string; requiredConfirmations?: number },
): DepositTransfer {
  const network = options.network ?? 'ethereum';
  const currency = options.currency ?? 'USDT';
  const { decimals } = currencyOn(network, currency)!;
  return {
    depositId: newId('deposit'),
    merchantId: seeded.tenant.merchantId,
    livemode: false,
    customerId: seeded.customer.id,
    network,
    currency,
    decimals,
    address: seeded.customer.addresses.find((entry) => entry.network === network)!.address,
    fromAddress: `0x${randomBytes(20).toString('hex')}`,
    transactionHash: `0x${randomBytes(32).toString('hex')}`,
    logIndex: 0,
    blockNumber: 1_000,
    blockHash: `0x${randomBytes(32).toString('hex')}`,
    amount: parseAmount(options.amount, decimals).toString(),
    requiredConfirmations: options.requiredConfirmations ?? networks[network].requiredConfirmations,
    simulated: true,
  };
}
