/**
 * Deposit orders: a merchant's own `external_id`, an amount in the asset or in fiat (converted at
 * creation, the rate locked for the order's life), a payment address of its own and an expiry.
 */
import type { AddressDeriver } from '../chains/derivation';
import type { Executor, Tenant } from '../db/database';
import { findCustomer } from '../customers/customers.repository';
import { findOrderByExternalId, insertOrderIfNew, nextOrderAddressIndex } from './orders.repository';
import type { Order } from './orders.table';
import { InvalidRequestError, ResourceExistsError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
import { exchangeRate, FIAT_DECIMALS, fiatToAsset, type FiatCurrency } from '../domain/exchange';
import { newId } from '../domain/ids';
import { AmountFormatError, MAX_BASE_UNITS, parseAmount } from '../domain/money';
import { currenciesOf, currencyOn, networks, type Network } from '../domain/networks';
import { modeOf } from '../domain/mode';
import type { callbackStatuses } from '../domain/order-state';
import { PriceUnavailableError, type PriceSource } from '../prices/price-source';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { emit } from '../events/emitter';
import { checkDestinationUrl } from '../webhooks/endpoints.service';
import type { PreparedDelivery } from '../domain/events';
import type { OrderWorkflowInput } from '../workflows/definitions';
import { queueOrderWorkflow } from '../outbox/queue';
import { orderObject } from './order.presenter';
import { newPaymentToken, paymentUrl } from '../checkout/payment-token';
import { checkReturnUrl } from '../checkout/return-urls';
import type { OrderObject } from './orders.schema';

export interface NewOrderInput {
  external_id: string;
  network: Network;
  currency: string;
  amount?: string | undefined;
  fiat_amount?: string | undefined;
  fiat_currency?: FiatCurrency | undefined;
  customer_id?: string | undefined;
  expires_in: number;
  callback_url?: string | undefined;
  callback_events?: Array<(typeof callbackStatuses)[number]> | undefined;
  success_url?: string | undefined;
  cancel_url?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface OrderDeps {
  deriver: AddressDeriver;
  prices: PriceSource;
  webhookPolicy: WebhookPolicy;
  /** The clock the expiry is counted from (ms since the epoch): Date.now, or a time-skipping test server's. */
  now?: () => number;
}

/** What the order's workflow starts from: the order just created and its `order.created` event. */
export function orderWorkflowInput(tenant: Tenant, order: OrderObject, createdEventId: string, createdDeliveries?: PreparedDelivery[]): OrderWorkflowInput {
  return {
    orderId: order.id,
    merchantId: tenant.merchantId,
    livemode: tenant.livemode,
    externalId: order.external_id,
    network: order.network,
    currency: order.currency,
    expiresAt: Date.parse(order.expires_at),
    createdEventId,
    ...(createdDeliveries ? { createdDeliveries } : {}),
  };
}

/** What an order needs from the network, read before its transaction opens (prepareOrder). */
export interface PreparedOrder {
  decimals: number;
  /** The vetted callback URL, or null. */
  callbackUrl: string | null;
  /** The payment page's return URLs, checked, or null. */
  successUrl: string | null;
  cancelUrl: string | null;
  amount: bigint;
  fiatCents: bigint | null;
  rate: string | null;
}

/**
 * The checks and reads of an order that wait on the network, done before createOrder's transaction
 * opens so that neither a callback host's DNS nor a price feed holds a pooled connection: the
 * currency, the callback URL (its lookup), and for a fiat amount the rate read now.
 */
export async function prepareOrder(tenant: Tenant, input: NewOrderInput, deps: Pick<OrderDeps, 'prices' | 'webhookPolicy'>): Promise<PreparedOrder> {
  const asset = currencyOn(input.network, input.currency);
  if (!asset) {
    throw new InvalidRequestError(
      `${input.currency} is not supported on ${input.network}; choose one of ${currenciesOf(input.network).join(', ')}.`,
      'currency',
    );
  }
  const callbackUrl =
    input.callback_url === undefined ? null : await checkDestinationUrl(input.callback_url, tenant.livemode, deps.webhookPolicy, 'callback_url');
  const successUrl = input.success_url === undefined ? null : checkReturnUrl(input.success_url, tenant.livemode, 'success_url');
  const cancelUrl = input.cancel_url === undefined ? null : checkReturnUrl(input.cancel_url, tenant.livemode, 'cancel_url');
  const priced = await price(input, asset.decimals, deps.prices);
  return { decimals: asset.decimals, callbackUrl, successUrl, cancelUrl, ...priced };
}

/** Creates the order, its `order.created` event and its queued workflow in the caller's transaction; bad input writes nothing. */
export async function createOrder(
  transaction: Executor,
  tenant: Tenant,
  input: NewOrderInput,
  prepared: PreparedOrder,
  deps: Pick<OrderDeps, 'deriver' | 'now'> & {
    /** The origin browsers reach inflow at, for the order's `payment_url` (public-origin.ts). */
    publicOrigin: string;
  },
): Promise<{ order: OrderObject; eventId: string }> {
  const customer = input.customer_id ? await findCustomer(transaction, tenant, input.customer_id) : undefined;
  if (input.customer_id && !customer) {
    throw new ResourceMissingError(`No such customer: '${input.customer_id}'`, 'customer_id');
  }
  // Archived means done with: its old addresses are still credited, but it takes no new orders.
  if (customer?.archived_at) {
    throw new InvalidRequestError(`Customer '${customer.id}' is archived: it cannot take new orders.`, 'customer_id', 'customer_archived');
  }
  const existing = await findOrderByExternalId(transaction, tenant, input.external_id);
  if (existing) throw duplicate(existing);
  const { callbackUrl, successUrl, cancelUrl, decimals, ...priced } = prepared;
  const paymentToken = newPaymentToken(modeOf(tenant.livemode));

  const family = networks[input.network].family;
  const addressIndex = await nextOrderAddressIndex(transaction, tenant.livemode);
  const order = await insertOrderIfNew(transaction, {
    id: newId('order'),
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    external_id: input.external_id,
    customer_id: input.customer_id ?? null,
    status: 'pending',
    network: input.network,
    currency: input.currency,
    decimals,
    family,
    address: deps.deriver.derive(family, addressIndex, 'orders'),
    address_index: addressIndex,
    amount: priced.amount,
    fiat_amount: priced.fiatCents,
    fiat_currency: input.fiat_currency ?? null,
    exchange_rate: priced.rate,
    expires_at: new Date((deps.now ?? Date.now)() + input.expires_in * 1000),
    callback_url: callbackUrl,
    callback_events: [...new Set(['completed', ...(input.callback_events ?? [])])],
    payment_token: paymentToken,
    payment_url: paymentUrl(deps.publicOrigin, paymentToken),
    success_url: successUrl,
    cancel_url: cancelUrl,
    metadata: JSON.stringify(input.metadata ?? {}),
  });
  // Two requests with one external_id at once: the unique index lets one through; the other is a 409.
  if (!order) throw duplicate((await findOrderByExternalId(transaction, tenant, input.external_id))!);
  const [object] = await orderObject(transaction, [order]);
  // Its deliveries are queued with it for the relay, so the order's workflow, queued too, starts none.
  const { eventId, deliveries } = await emit(transaction, 'order.created', order, object!);
  await queueOrderWorkflow(transaction, orderWorkflowInput(tenant, object!, eventId, deliveries));
  return { order: object!, eventId };
}

function duplicate(existing: Order): ResourceExistsError {
  return new ResourceExistsError(`An order with external_id '${existing.external_id}' already exists: ${existing.id}.`, 'external_id');
}

/** The amount in base units, and for a fiat order its cents and the rate locked now. */
async function price(input: NewOrderInput, decimals: number, prices: PriceSource): Promise<{ amount: bigint; fiatCents: bigint | null; rate: string | null }> {
  const parse = (text: string, places: number, param: string) => {
    try {
      const value = parseAmount(text, places);
      if (value === 0n) throw new AmountFormatError(`"${text}" is zero`);
      return value;
    } catch (error) {
      if (error instanceof AmountFormatError) throw new InvalidRequestError(`Invalid ${param}: ${error.message} (${places} decimal places at most).`, param);
      throw error;
    }
  };
  if (input.amount !== undefined) return { amount: parse(input.amount, decimals, 'amount'), fiatCents: null, rate: null };
  const fiatCents = parse(input.fiat_amount!, FIAT_DECIMALS, 'fiat_amount');
  const fiat = input.fiat_currency!;
  let rate: string;
  try {
    const [assetUsd, fiatUsd] = await Promise.all([prices.priceUsd(input.network, input.currency), prices.priceUsd(input.network, fiat)]);
    rate = exchangeRate(assetUsd, fiatUsd);
  } catch (error) {
    if (error instanceof RangeError) throw new InvalidRequestError(`${input.currency} cannot be priced in ${fiat}: ${error.message}.`, 'fiat_currency');
    if (error instanceof PriceUnavailableError) {
      throw new ServiceUnavailableError(`No fresh ${input.currency}/${fiat} price can be had now (${error.message}); nothing was created. Retry later.`);
    }
    throw error;
  }
  const amount = fiatToAsset(fiatCents, rate, decimals);
  if (amount > MAX_BASE_UNITS)
    throw new InvalidRequestError(`Invalid fiat_amount: ${input.fiat_amount} ${fiat} is more ${input.currency} than any on-chain amount.`, 'fiat_amount');
  return { amount, fiatCents, rate };
}
