/**
 * What the Temporal Web UI shows of each inflow workflow, so that a list of them reads at a glance:
 * the search attributes, static summary and static details every start carries (`startMetadata`,
 * used by client.ts, hence by the outbox relay, and by the workflows' child starts), and the
 * one-line current details each workflow keeps up to date with `setCurrentDetails` (the Web UI shows
 * them on the workflow's page; `temporal workflow metadata` and the `__temporal_workflow_metadata`
 * query return them). Pure: workflows import it too, so times come from the workflow's clock.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { DepositStatus } from '../domain/deposit-state';
import { modeOf } from '../domain/mode';
import { formatAmount } from '../domain/money';
import type { OrderStatus } from '../domain/order-state';
import {
  searchAttributes,
  type AttemptResult,
  type ChainWatcherInput,
  type DepositState,
  type DepositTransfer,
  type EventDispatchInput,
  type OrderWorkflowInput,
  type PreparedDelivery,
  type PruneRequestLogResult,
  type PurgeIdempotencyKeysInput,
  type ScanResult,
  type SimulatedConfirmationsInput,
  type Workflows,
} from './definitions';

/** Start options for the Web UI: spread into a client start, a signal-with-start, a schedule action or a child start. */
export interface StartMetadata {
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
  staticDetails?: string;
}

const startMetadataOf: { [Name in keyof Workflows]: (...args: Parameters<Workflows[Name]>) => StartMetadata } = {
  depositWorkflow: ({ transfer }) => ({
    typedSearchAttributes: depositSearchAttributes(transfer, 'detected'),
    staticSummary: `Deposit ${transfer.depositId}: ${amountOf(transfer)} on ${transfer.network} to ${payeeOf(transfer)}${modeNote(transfer)}`,
    staticDetails: lines([
      `Merchant: ${transfer.merchantId}`,
      transfer.customerId && `Customer: ${transfer.customerId}`,
      transfer.orderId && `Order: ${transfer.orderId}`,
      `Transaction: ${transfer.transactionHash} (log ${transfer.logIndex})${transfer.blockNumber === null ? '' : `, block ${transfer.blockNumber}`}`,
      `From ${transfer.fromAddress ?? 'an unknown address'} to ${transfer.address}`,
      `Completes at ${transfer.requiredConfirmations} confirmations`,
    ]),
  }),
  simulatedConfirmationsWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary: `Simulated chain for ${input.depositWorkflowId}: ${simulationPlan(input)}`,
  }),
  webhookDeliveryWorkflow: (delivery) => ({
    typedSearchAttributes: present([
      keyword(searchAttributes.EventId, delivery.eventId),
      keyword(searchAttributes.EventType, delivery.eventType),
      keyword(searchAttributes.MerchantId, delivery.merchantId),
      keyword(delivery.destinationType === 'order' ? searchAttributes.OrderId : searchAttributes.EndpointId, delivery.destinationId),
    ]),
    staticSummary: deliveryHeadline(delivery),
    staticDetails: lines([`Delivery: ${delivery.deliveryId}`, delivery.merchantId && `Merchant: ${delivery.merchantId}`]),
  }),
  eventDispatchWorkflow: (input) => ({
    typedSearchAttributes: present([
      keyword(searchAttributes.EventId, input.eventId),
      keyword(searchAttributes.EventType, input.eventType),
      keyword(searchAttributes.MerchantId, input.merchantId),
    ]),
    staticSummary: `Dispatch ${eventOf(input)} to the merchant's endpoints`,
  }),
  chainWatcherWorkflow: (input) => ({
    typedSearchAttributes: [
      { key: searchAttributes.Network, value: [input.network] },
      { key: searchAttributes.Livemode, value: input.livemode },
    ],
    staticSummary: `Chain watcher: ${input.network} (${modeOf(input.livemode)})`,
    staticDetails: `Scans for deposits and reports confirmations; at the head it polls every ${formatDuration(input.pollIntervalMs)}.`,
  }),
  orderWorkflow: (input) => ({
    typedSearchAttributes: orderSearchAttributes(input, 'pending'),
    staticSummary: `Order ${input.orderId} (${input.externalId}): ${input.currency} on ${input.network}, expires ${formatTime(input.expiresAt)}${modeNote(input)}`,
    staticDetails: lines([`Merchant: ${input.merchantId}`, `External id: ${input.externalId}`, `Created event: ${input.createdEventId}`]),
  }),
  purgeIdempotencyKeysWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary: `Purge Idempotency-Keys older than ${input.olderThanHours} h`,
  }),
  pruneRequestLogWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary:
      input.olderThanDays === undefined
        ? 'Prune the request log past INFLOW_REQUEST_LOG_RETENTION_DAYS'
        : `Prune the request log past ${input.olderThanDays} days`,
  }),
  sweepRunWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary: `Sweep deposit addresses on ${input.network} (${modeOf(input.livemode)}) to the treasury`,
  }),
  sweepWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary: `Sweep ${input.sweepId} to the treasury`,
  }),
  reconcileWorkflow: (input) => ({
    typedSearchAttributes: [],
    staticSummary: `Reconcile ${input.network} (${modeOf(input.livemode)}) holdings with the chain`,
  }),
  payoutWorkflow: (input) => ({
    typedSearchAttributes: present([
      keyword(searchAttributes.PayoutId, input.payoutId),
      keyword(searchAttributes.MerchantId, input.merchantId),
      keyword(searchAttributes.ObjectStatus, input.status),
      { key: searchAttributes.Network, value: [input.network] },
      { key: searchAttributes.Currency, value: [input.currency] },
      { key: searchAttributes.Livemode, value: input.livemode },
    ]),
    staticSummary: `Payout ${input.payoutId}: ${input.currency} on ${input.network}${modeNote(input)}`,
  }),
};

/** The search attributes, summary and details a start of `name` with `args` carries. */
export function startMetadata<Name extends keyof Workflows>(name: Name, args: Parameters<Workflows[Name]>): StartMetadata {
  const of = startMetadataOf[name] as (...args: Parameters<Workflows[Name]>) => StartMetadata;
  return of(...args);
}

// ---------------------------------------------------------------------------------------------
// Deposits

export function depositSearchAttributes(transfer: DepositTransfer, status: DepositStatus): SearchAttributePair[] {
  return present([
    keyword(searchAttributes.DepositId, transfer.depositId),
    keyword(searchAttributes.MerchantId, transfer.merchantId),
    keyword(searchAttributes.CustomerId, transfer.customerId),
    keyword(searchAttributes.OrderId, transfer.orderId),
    { key: searchAttributes.Network, value: [transfer.network] },
    { key: searchAttributes.Currency, value: [transfer.currency] },
    { key: searchAttributes.TxHash, value: [transfer.transactionHash] },
    { key: searchAttributes.Livemode, value: transfer.livemode },
    { key: searchAttributes.ObjectStatus, value: status },
  ]);
}

/** What a deposit is waiting for besides its next report, when that is worth saying. */
export interface DepositWait {
  /** Reported again after it timed out: late money, confirming again. */
  late?: boolean;
  /** Completed, and listening for a reorg until then (ms since the epoch). */
  reorgWatchUntil?: number;
  /** Complete but for its price: the source answered nonsense; asked again then. */
  priceRetryAt?: number;
}

/** "25 USDT to cus_… — confirming, 7/12", "— completed, 12/12 (watching for reorgs until …)", "— failed at 6/12: …". */
export function depositDetails(transfer: DepositTransfer, state: DepositState, wait: DepositWait = {}): string {
  const progress = `${state.confirmations}/${state.requiredConfirmations}`;
  let now: string;
  if (state.status === 'completed') {
    now = `completed, ${progress}${wait.reorgWatchUntil === undefined ? '' : ` (watching for reorgs until ${formatTime(wait.reorgWatchUntil)})`}`;
  } else if (state.status === 'failed') {
    if (state.reversed) now = 'reversed: its block left the chain after completion';
    else if (state.failureReason === 'timeout') now = `failed at ${progress}: timed out waiting for confirmations (watchers keep checking for late money)`;
    else now = `failed at ${progress}: its block left the chain (${state.failureReason ?? 'unknown reason'})`;
  } else {
    // On a chain the watcher reports a confirming deposit only at its depth; the row counts each block in between.
    const between = state.status === 'confirming' && !transfer.simulated && !wait.late ? ' when last reported (GET /deposits counts each block)' : '';
    now = `${state.status}, ${progress}${between}${wait.late ? ' (late: it had timed out; reported again)' : ''}`;
    if (wait.priceRetryAt !== undefined) now += `; waiting for a usable price, asking again at ${formatTime(wait.priceRetryAt)}`;
  }
  return `${amountOf(transfer)} to ${payeeOf(transfer)} — ${now}`;
}

/** The simulated chain a test-mode deposit starts as its child: searchable by the deposit's id too. */
export function simulationStartMetadata(transfer: DepositTransfer, input: SimulatedConfirmationsInput): StartMetadata {
  return {
    typedSearchAttributes: [
      { key: searchAttributes.DepositId, value: transfer.depositId },
      { key: searchAttributes.MerchantId, value: transfer.merchantId },
    ],
    staticSummary: `Simulated chain for deposit ${transfer.depositId}: ${simulationPlan(input)}`,
  };
}

/** "block 7/12 reported", "reorg reported at block 6/12", "all 12 blocks reported". */
export function simulationDetails(input: SimulatedConfirmationsInput, reported: { confirmations: number; canonical: boolean }): string {
  if (!reported.canonical) return `reorg reported at block ${reported.confirmations}/${input.requiredConfirmations}`;
  if (reported.confirmations >= input.requiredConfirmations) return `all ${input.requiredConfirmations} blocks reported`;
  return `block ${reported.confirmations}/${input.requiredConfirmations} reported`;
}

function simulationPlan(input: Omit<SimulatedConfirmationsInput, 'depositWorkflowId' | 'blockHash'>): string {
  const end = input.outcome === 'failed' ? 'a reorg halfway' : 'completion';
  return `${input.requiredConfirmations} blocks, one every ${formatDuration(input.blockTimeMs)}, to ${end}`;
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/** "deposit.completed evt_… → we_…", or "→ callback of ord_…" for an order's callback URL. */
export function deliveryHeadline(delivery: PreparedDelivery): string {
  return `${eventOf(delivery)} → ${destinationOf(delivery)}`;
}

export type DeliveryProgress =
  | { sending: number }
  | { failedAttempt: number; result: AttemptResult; nextAt: number; nextInMs: number }
  | { finalAttempt: number; result: AttemptResult }
  | { gaveUpAfter: number; result: AttemptResult };

/** "deposit.completed evt_… → we_… — attempt 3 failed (HTTP 503), next in 5m (…)", "— delivered 200 on attempt 1". */
export function deliveryDetails(delivery: PreparedDelivery, progress: DeliveryProgress): string {
  let now: string;
  if ('sending' in progress) {
    now = `sending attempt ${progress.sending}`;
  } else if ('failedAttempt' in progress) {
    now = `attempt ${progress.failedAttempt} failed (${answerOf(progress.result)}), next in ${formatDuration(progress.nextInMs)} (at ${formatTime(progress.nextAt)})`;
  } else if ('gaveUpAfter' in progress) {
    now = `failed: ${progress.gaveUpAfter} attempts in about three days (last: ${answerOf(progress.result)})`;
  } else {
    const { finalAttempt: attempt, result } = progress;
    if (result.outcome === 'succeeded')
      now = result.statusCode === null ? 'delivered on an earlier attempt' : `delivered ${result.statusCode} on attempt ${attempt}`;
    else if (result.outcome === 'gone')
      now = `410 Gone on attempt ${attempt}: ${delivery.destinationType === 'order' ? 'callback stopped' : 'endpoint disabled'}`;
    else now = `stopped on attempt ${attempt}: the endpoint is disabled or deleted`;
  }
  return `${deliveryHeadline(delivery)} — ${now}`;
}

/** "deposit.completed evt_… → we_…, callback of ord_…", "→ no subscribed endpoints", or "→ finding its endpoints" before. */
export function dispatchDetails(input: EventDispatchInput, deliveries: PreparedDelivery[] | undefined): string {
  if (!deliveries) return `${eventOf(input)} → finding its endpoints`;
  return `${eventOf(input)} → ${deliveries.length === 0 ? 'no subscribed endpoints' : deliveries.map(destinationOf).join(', ')}`;
}

function eventOf(event: { eventId: string; eventType?: string }): string {
  return event.eventType ? `${event.eventType} ${event.eventId}` : event.eventId;
}

function destinationOf(delivery: PreparedDelivery): string {
  return delivery.destinationType === 'order' ? `callback of ${delivery.destinationId}` : delivery.destinationId;
}

function answerOf(result: AttemptResult): string {
  if (result.statusCode !== null) return `HTTP ${result.statusCode}`;
  if (!result.error) return 'no answer';
  return result.error.length > 80 ? `${result.error.slice(0, 79)}…` : result.error;
}

// ---------------------------------------------------------------------------------------------
// Orders, chains, maintenance

export function orderSearchAttributes(input: OrderWorkflowInput, status: OrderStatus): SearchAttributePair[] {
  return [
    { key: searchAttributes.OrderId, value: input.orderId },
    { key: searchAttributes.ExternalId, value: input.externalId },
    { key: searchAttributes.MerchantId, value: input.merchantId },
    { key: searchAttributes.Network, value: [input.network] },
    { key: searchAttributes.Currency, value: [input.currency] },
    { key: searchAttributes.Livemode, value: input.livemode },
    { key: searchAttributes.ObjectStatus, value: status },
  ];
}

/** "pending until …", "expired: waiting for a payment still confirming", "completed", "canceled". */
export function orderDetails(
  input: OrderWorkflowInput,
  status: OrderStatus,
  phase: { settlesAt?: number; expired?: boolean; waitingForChain?: boolean } = {},
): string {
  let now: string = status;
  if (status === 'pending' && phase.waitingForChain) now = `past its deadline: waiting for the ${input.network} watcher to read past it`;
  else if (status === 'pending' && phase.expired) now = 'past its expiry: waiting for a payment that is still confirming';
  else if (status === 'pending' && phase.settlesAt !== undefined) now = `pending; settles at ${formatTime(phase.settlesAt)} unless paid in full before`;
  return `Order ${input.orderId} (${input.externalId}) — ${now}`;
}

/** "ethereum (test) — at head 1234; last round found 2 transfers", "— 120 blocks behind head 1234". */
export function watcherDetails(input: ChainWatcherInput, last: ScanResult | undefined): string {
  const chain = `${input.network} (${modeOf(input.livemode)})`;
  if (!last) return `${chain} — first scan`;
  const position = last.lag === 0 ? `at head ${last.head}` : `catching up: ${last.lag} blocks behind head ${last.head}`;
  return `${chain} — ${position}; last round found ${last.detected} transfer${last.detected === 1 ? '' : 's'}`;
}

export function purgeDetails(input: PurgeIdempotencyKeysInput, deleted?: number): string {
  return deleted === undefined
    ? `purging Idempotency-Keys older than ${input.olderThanHours} h`
    : `deleted ${deleted} Idempotency-Key${deleted === 1 ? '' : 's'} older than ${input.olderThanHours} h`;
}

export function pruneDetails(result?: PruneRequestLogResult): string {
  if (!result) return 'pruning logged API requests past their retention';
  const more = result.more ? '; older ones are left for the next run' : '';
  return `deleted ${result.deleted} logged request${result.deleted === 1 ? '' : 's'} older than ${result.olderThanDays} days${more}`;
}

// ---------------------------------------------------------------------------------------------

/** "25 USDT", "0.5 ETH": the amount without the trailing zeros of its full precision. */
function amountOf(transfer: DepositTransfer): string {
  const full = formatAmount(BigInt(transfer.amount), transfer.decimals);
  const short = full.includes('.') ? full.replace(/0+$/, '').replace(/\.$/, '') : full;
  return `${short} ${transfer.currency}`;
}

/** Whose address was paid: the customer, the order, or the customer's order. */
function payeeOf(transfer: DepositTransfer): string {
  if (transfer.customerId && transfer.orderId) return `${transfer.customerId} (order ${transfer.orderId})`;
  return transfer.customerId ?? transfer.orderId ?? transfer.address;
}

function modeNote(subject: { livemode: boolean; simulated?: boolean }): string {
  if (subject.livemode) return '';
  return subject.simulated ? ' (test mode, simulated)' : ' (test mode)';
}

/** "2026-11-23 05:12 UTC": minutes are enough to read a list by. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "10ms", "12s", "5m", "2h", "1h 48m". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours}h` : `${hours}h ${minutes % 60}m`;
}

/** A Markdown list, without the items that do not apply. */
function lines(items: Array<string | null | undefined | false>): string {
  return items
    .filter((item): item is string => Boolean(item))
    .map((item) => `- ${item}`)
    .join('\n');
}

/**
 * A Keyword pair when its value is known. A start queued in the outbox by an older inflow may lack
 * the event's type or merchant; an absent value leaves the attribute unset instead of failing the start.
 */
function keyword(key: typeof searchAttributes.MerchantId, value: string | null | undefined): SearchAttributePair | undefined {
  return value ? { key, value } : undefined;
}

function present(pairs: Array<SearchAttributePair | undefined>): SearchAttributePair[] {
  return pairs.filter((pair) => pair !== undefined);
}
