/**
 * Data factories for tests and benchmarks: real rows through inflow's own service functions and
 * repositories, with sensible defaults, so a test states only what it is about.
 */
import type { PayoutSettings } from '../src/config';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { AddressDeriver, xpubsFromMnemonic } from '../src/chains/derivation';
import { createCustomer } from '../src/customers/customers.service';
import type { Db, Tenant } from '../src/db/database';
import { insertEvent } from '../src/events/events.repository';
import { insertWebhookEndpoint } from '../src/webhooks/webhooks.repository';
import type { Event } from '../src/events/events.table';
import type { WebhookEndpoint } from '../src/webhooks/webhooks.table';
import type { EventFamily, EventType } from '../src/domain/events';
import { modeOf, type Mode } from '../src/domain/mode';
import { newId } from '../src/domain/ids';
import { parseAmount } from '../src/domain/money';
import { currencyOn, networks, type Network } from '../src/domain/networks';
import { generateWebhookSecret } from '../src/domain/signatures';
import { createMerchant, type CreatedMerchant } from '../src/merchants/merchants.service';
import { defaultStaticPrices, type PriceSource } from '../src/prices/price-source';
import { createPriceSources } from '../src/prices/sources';
import type { OrderObject } from '../src/orders/orders.schema';
import { createOrder, prepareOrder, type NewOrderInput } from '../src/orders/orders.service';
import { developmentWebhookPolicy } from '../src/webhooks/deliveries';
import { sealWebhookSecret } from '../src/webhooks/sealed-secrets';
import { payoutWorkflowId, type DepositTransfer } from '../src/workflows/definitions';
import { insertPayout } from '../src/payouts/payouts.repository';
import type { PayoutStatus } from '../src/payouts/payouts.table';

/** The server key tests and benchmarks seal API keys with (INFLOW_SECRET_KEY); public, like the mnemonics. */
export const testSecretKeyHex = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
export const testSecretKey = Buffer.from(testSecretKeyHex, 'hex');
/**
 * The operator token tests and the multi-process test stacks (test/helpers/inflow-env.ts) read
 * /healthz?detail with (INFLOW_HEALTH_TOKEN); public, like the server key above. `npm run dev`
 * does not use it: it makes a token per start and prints how to read the detail with it.
 */
export const testHealthToken = 'health-0123456789abcdef0123456789abcdef';

/** Payouts as an operator enables them for tests: a public authorisation secret (test mode only), USD 1 a payout, no limit in test mode. */
export const testPayoutSettings: PayoutSettings = {
  authorizationSecret: 'payout-authorization-0123456789abcdef',
  liveEnabled: false,
  feeUsdCents: { ethereum: 100n, polygon: 100n, bsc: 100n, arbitrum: 100n, base: 100n, tron: 100n },
};

/** The static price table for both modes, as tests and benchmarks price fees and fiat (live too, as INFLOW_ALLOW_STATIC_PRICES_LIVE=true does). */
export function staticPrices(): Record<Mode, PriceSource> {
  return createPriceSources({ staticPrices: defaultStaticPrices, priceFeeds: {}, allowStaticPricesLive: true });
}

/** A merchant with a test and a live key, keys sealed under the test server key. */
export function buildMerchant(db: Db, name = 'Fixtures Ltd'): Promise<CreatedMerchant> {
  return createMerchant(db, name, testSecretKey);
}

/** Public test mnemonics: anvil's default for test mode (its accounts hold devnet ETH), BIP-39's first vector for live. */
export const testMnemonics: Record<Mode, string> = {
  test: 'test test test test test test test test test test test junk',
  live: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
};

export function testDerivers(): Record<Mode, AddressDeriver> {
  return { test: new AddressDeriver(xpubsFromMnemonic(testMnemonics.test)), live: new AddressDeriver(xpubsFromMnemonic(testMnemonics.live)) };
}

/** The same keys as the environment variables the production processes read. */
export function testXpubEnv(): Record<string, string> {
  const test = xpubsFromMnemonic(testMnemonics.test);
  const live = xpubsFromMnemonic(testMnemonics.live);
  return {
    INFLOW_XPUB_EVM_TEST: test.evm,
    INFLOW_XPUB_TRON_TEST: test.tron,
    INFLOW_XPUB_EVM_LIVE: live.evm,
    INFLOW_XPUB_TRON_LIVE: live.tron,
  };
}

/** A merchant with one customer (test mode unless `livemode`), straight into the database. */
/**
 * A test-mode USDT payout on ethereum as the API writes one with the merchant's test key, in any
 * status, without its workflow (nothing sends, fails or cancels it meanwhile): for tests of what shows
 * and acts on payouts. Amounts in base units.
 */
export async function buildPayout(db: Db, merchant: CreatedMerchant, options: { status: PayoutStatus; amount: bigint; fee?: bigint }): Promise<string> {
  const id = newId('payout');
  const key = await db
    .selectFrom('api_keys')
    .select('id')
    .where('merchant_id', '=', merchant.merchant_id)
    .where('livemode', '=', false)
    .executeTakeFirstOrThrow();
  await insertPayout(db, {
    id,
    merchant_id: merchant.merchant_id,
    livemode: false,
    network: 'ethereum',
    currency: 'USDT',
    decimals: 6,
    amount: options.amount,
    fee: options.fee ?? 0n,
    amount_usd_cents: options.amount / 10_000n,
    created_by_key_id: key.id,
    destination: Wallet.createRandom().address,
    external_id: null,
    metadata: JSON.stringify({}),
    deposit_id: null,
    status: options.status,
    authorization: 'not checked: nothing sends it',
    workflow_id: payoutWorkflowId({ livemode: false, payoutId: id }),
    ...(options.status === 'canceled' ? { completed_at: new Date() } : {}),
  });
  return id;
}

export async function buildCustomer(db: Db, options: { merchant?: CreatedMerchant; livemode?: boolean; email?: string } = {}) {
  const merchant = options.merchant ?? (await buildMerchant(db));
  const tenant: Tenant = { merchantId: merchant.merchant_id, livemode: options.livemode ?? false };
  const deriver = testDerivers()[modeOf(tenant.livemode)];
  const { customer } = await db.transaction().execute((transaction) => createCustomer(transaction, tenant, { email: options.email }, deriver));
  return { merchant, tenant, customer };
}

export type BuiltCustomer = Awaited<ReturnType<typeof buildCustomer>>;

/** A well-formed transfer of `amount` (a decimal string) to the customer, with a fresh random hash. */
export function buildTransfer(
  owner: BuiltCustomer,
  options: { network?: Network; currency?: string; amount: string; requiredConfirmations?: number },
): DepositTransfer {
  const network = options.network ?? 'ethereum';
  const payee = { customerId: owner.customer.id, orderId: null, address: owner.customer.addresses.find((entry) => entry.network === network)!.address };
  return transferTo(owner.tenant, payee, { ...options, network, currency: options.currency ?? 'USDT' });
}

/** A well-formed transfer of `amount` (a decimal string) to the order's address, with a fresh random hash. */
export function buildOrderTransfer(
  tenant: Tenant,
  order: OrderObject,
  options: { amount: string; requiredConfirmations?: number; blockTime?: number },
): DepositTransfer {
  const payee = { customerId: order.customer_id, orderId: order.id, address: order.address };
  return transferTo(tenant, payee, { ...options, network: order.network as Network, currency: order.currency });
}

function transferTo(
  tenant: Tenant,
  payee: { customerId: string | null; orderId: string | null; address: string },
  options: { network: Network; currency: string; amount: string; requiredConfirmations?: number; blockTime?: number },
): DepositTransfer {
  const { decimals } = currencyOn(options.network, options.currency)!;
  return {
    depositId: newId('deposit'),
    merchantId: tenant.merchantId,
    livemode: tenant.livemode,
    ...payee,
    network: options.network,
    currency: options.currency,
    decimals,
    fromAddress: `0x${randomBytes(20).toString('hex')}`,
    transactionHash: `0x${randomBytes(32).toString('hex')}`,
    logIndex: 0,
    blockNumber: 1_000,
    blockHash: `0x${randomBytes(32).toString('hex')}`,
    ...(options.blockTime !== undefined ? { blockTime: options.blockTime } : {}),
    amount: parseAmount(options.amount, decimals).toString(),
    requiredConfirmations: options.requiredConfirmations ?? networks[options.network].requiredConfirmations,
    simulated: true,
  };
}

/** An enabled webhook endpoint of the tenant for `url`, subscribed to every event unless `events` says otherwise. */
export async function buildEndpoint(
  db: Db,
  tenant: Tenant,
  options: { url: string; events?: Array<EventType | EventFamily | '*'>; secret?: string },
): Promise<WebhookEndpoint> {
  const id = newId('webhookEndpoint');
  const secret = options.secret ?? generateWebhookSecret();
  const endpoint = await insertWebhookEndpoint(db, {
    id,
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    url: options.url,
    description: null,
    events: options.events ?? ['*'],
    // Sealed at rest under the test server key, as the API stores it; the plaintext comes back to sign with.
    secret: sealWebhookSecret(secret, testSecretKey, id),
    previous_secret: null,
    previous_secret_expires_at: null,
    disabled_reason: null,
    deleted_at: null,
  });
  return { ...endpoint, secret };
}

/** An event row of the tenant, as an emitter writes it (`customer.created` with a small payload by default). */
export async function buildEvent(db: Db, tenant: Tenant, options: { type?: EventType; data?: Record<string, unknown> } = {}): Promise<Event> {
  return insertEvent(db, {
    id: newId('event'),
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    type: options.type ?? 'customer.created',
    data: options.data ?? { id: newId('customer'), object: 'customer' },
  });
}

/** An order of the tenant through the real service (test wallets, static prices), as `POST /orders` makes it. */
export async function buildOrder(db: Db, tenant: Tenant, input: Partial<NewOrderInput>, options: { now?: number } = {}) {
  const deriver = testDerivers()[modeOf(tenant.livemode)];
  const order = { external_id: `order-${newId('request')}`, network: 'ethereum' as const, currency: 'USDT', expires_in: 900, ...input };
  const prepared = await prepareOrder(tenant, order, {
    prices: staticPrices()[modeOf(tenant.livemode)],
    webhookPolicy: developmentWebhookPolicy,
  });
  return db.transaction().execute((transaction) =>
    createOrder(transaction, tenant, order, prepared, {
      deriver,
      publicOrigin: 'http://localhost:3000',
      ...(options.now === undefined ? {} : { now: () => options.now! }),
    }),
  );
}
