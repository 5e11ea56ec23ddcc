/**
 * The contract between workflows, activities and their clients (API, worker, chain watcher), in
 * one place: every workflow's name, input and result; every activity's signature; every type that
 * crosses the workflow/activity boundary; workflow ids, signals, queries, search attributes and
 * activity failure types. Workflow code and activity code meet only here: workflows see activities
 * as the `Activities` type, and activities reach workflows only through `client.ts`, which names
 * them by string. Pure: safe to import from workflow code and from Node alike.
 */
import { defineSearchAttributeKey, SearchAttributeType, type Duration } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DepositStatus, FailureReason } from '../domain/deposit-state';
import { modeOf } from '../domain/mode';
import type { OrderStatus } from '../domain/order-state';
import type { Network } from '../domain/networks';

/**
 * inflow's custom search attributes, the one list every Temporal inflow runs on registers: the dev
 * server's start flags and the test servers are built from it (dev/temporal.ts), the compose file's
 * setup container lists the same (test/unit/docker-compose.test.ts holds the two in step). An
 * operator filters on them in the Web UI or with `temporal workflow list --query` (docs/operations.md):
 * `DepositId = 'dep_…'`, `EventId = 'evt_…' AND EndpointId = 'we_…'`.
 *
 * Temporal's SQL visibility stores (the dev server's SQLite, the compose file's Postgres) hold at most
 * 10 custom Keyword attributes and 3 KeywordList ones. The ids and statuses operators look up are
 * Keyword; the transfer's chain facts are one-element KeywordLists, which a query such as
 * `Network = 'ethereum'` matches all the same. Both kinds are now full: a new attribute takes another
 * type, or the place of one of these.
 */
export const searchAttributes = {
  MerchantId: defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD),
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  DepositId: defineSearchAttributeKey('DepositId', SearchAttributeType.KEYWORD),
  DepositStatus: defineSearchAttributeKey('DepositStatus', SearchAttributeType.KEYWORD),
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  ExternalId: defineSearchAttributeKey('ExternalId', SearchAttributeType.KEYWORD),
  OrderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  /** On webhook deliveries and event dispatches: the event, its type, and the endpoint it goes to. */
  EventId: defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD),
  EventType: defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD),
  EndpointId: defineSearchAttributeKey('EndpointId', SearchAttributeType.KEYWORD),
  Network: defineSearchAttributeKey('Network', SearchAttributeType.KEYWORD_LIST),
  Currency: defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD_LIST),
  TxHash: defineSearchAttributeKey('TxHash', SearchAttributeType.KEYWORD_LIST),
  Livemode: defineSearchAttributeKey('Livemode', SearchAttributeType.BOOL),
} as const;

/**
 * The `type` of the failures activities throw for what a retry cannot fix by itself (a row that
 * does not exist, a price that does not parse, a chain without a node). They are thrown
 * non-retryable: the activity fails at once, with its type and message in the Web UI's history,
 * instead of retrying forever. Where the cause can be repaired while the workflow waits (a price
 * feed), the workflow asks again after a pause of its own. Workflows and tests match on these
 * strings, never on an error's class name.
 */
export const activityFailureTypes = {
  depositNotFound: 'DepositNotFound',
  eventNotFound: 'EventNotFound',
  deliveryNotFound: 'DeliveryNotFound',
  priceUnparseable: 'PriceUnparseable',
  chainNotConfigured: 'ChainNotConfigured',
  orderNotFound: 'OrderNotFound',
  /** Final, and the verdict of the cancel Update: the order is no longer pending, or has a payment. */
  orderNotCancelable: 'OrderNotCancelable',
} as const;

// ---------------------------------------------------------------------------------------------
// Deposits: depositWorkflow, id `deposit:{mode}:{network}:{txHash}:{logIndex}`.

/** A transfer to a customer's address, as detected on-chain or simulated. */
export interface DepositTransfer {
  depositId: string;
  merchantId: string;
  livemode: boolean;
  /** Whose address it was paid to: a customer's, an order's (possibly made for a customer), or both. */
  customerId: string | null;
  orderId?: string | null;
  network: string;
  currency: string;
  decimals: number;
  address: string;
  fromAddress: string | null;
  transactionHash: string;
  logIndex: number;
  /** Recorded before transfers were numbered by the chain alone: `logIndex` is the old, configuration-dependent ordinal. */
  legacyLogIndex?: boolean;
  blockNumber: number | null;
  blockHash: string | null;
  /** When that block was made, on the chain's clock, in ms since the epoch (absent for simulated transfers and from earlier inflows). */
  blockTime?: number | null;
  /** Base units, as a decimal string (bigint does not cross Temporal's JSON payloads). */
  amount: string;
  requiredConfirmations: number;
  simulated: boolean;
}

export interface DepositWorkflowInput {
  transfer: DepositTransfer;
  /** Test mode: the deposit runs its simulated confirmations as a child workflow. */
  simulation?: SimulatedConfirmations;
  noProgressTimeout?: Duration;
  reversalWindow?: Duration;
  /**
   * Started by a chain watcher that found a deposit failed or reversed by a reorg back in a
   * canonical block, paying the same: the deposit is re-opened (detected again) and confirms anew.
   */
  reincluded?: boolean;
}

/** What a chain watcher (or the test-mode simulator) reports about a deposit's block. */
export interface ConfirmationReport {
  confirmations: number;
  /** The hash of the block the deposit is in, as the reporter sees it. */
  blockHash: string | null;
  /** That block's number (absent from reports an earlier inflow made, and from simulated ones). */
  blockNumber?: number | null;
  /**
   * False when the deposit's transaction is gone for good: out of the canonical chain (or in it
   * without paying) for the network's depth past where it was. Watchers never report a reorg
   * on one observation: the same transaction is usually mined again within a block or two.
   */
  canonical: boolean;
}

export const confirmationSignal = defineSignal<[ConfirmationReport]>('confirmation');

export interface DepositState {
  depositId: string;
  status: DepositStatus;
  confirmations: number;
  requiredConfirmations: number;
  blockHash: string | null;
  failureReason: string | null;
  reversed: boolean;
}

export const depositStateQuery = defineQuery<DepositState>('depositState');

/** One workflow per transfer and mode: a second detection of the same transfer finds the first. */
export function depositWorkflowId(transfer: { livemode: boolean; network: string; transactionHash: string; logIndex: number }): string {
  return `deposit:${modeOf(transfer.livemode)}:${transfer.network}:${transfer.transactionHash}:${transfer.logIndex}`;
}

/** How long a deposit may wait for its next confirmation before it fails with reason `timeout`. */
export const DEFAULT_NO_PROGRESS_TIMEOUT = '24 hours';
/**
 * How long a completed deposit keeps listening for a reorg that would reverse it; chain watchers
 * keep checking completed deposits' blocks for as long.
 */
export const REVERSAL_WINDOW_MS = 60 * 60 * 1000;
/**
 * How long after a deposit timed out chain watchers keep checking its block: if it becomes final
 * meanwhile, the deposit completes late (older ones: `npm run cli -- chain rescan`).
 */
export const LATE_MONEY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The event a transition emitted, if any, and its webhook deliveries, recorded in the transition's
 * own transaction: the workflow starts each as a child at once. `deliveries` is absent from a
 * result an earlier inflow recorded (a history replayed after an upgrade, or an activity an older
 * worker ran during one); the workflow then records them with prepareWebhookDeliveries, as it did.
 */
export interface EmittedEvent {
  eventId: string | null;
  deliveries?: PreparedDelivery[];
}

/** What a deposit activity hands back to the workflow: enough to drive it, small enough for history. */
export interface DepositSummary extends EmittedEvent {
  status: DepositStatus;
  failureReason: FailureReason | null;
  confirmations: number;
}

export interface DepositActivities {
  recordDetectedDeposit(transfer: DepositTransfer): Promise<DepositSummary>;
  /** `first`: the caller expects this report to move the deposit to confirming. */
  recordConfirmations(input: {
    depositId: string;
    confirmations: number;
    blockHash: string | null;
    /** Where the transfer is now: a deposit a reorg moved takes its new block and its confirmations there. */
    blockNumber?: number | null;
    first?: boolean;
  }): Promise<DepositSummary>;
  /** The USD price of one whole unit, as a plain decimal of at most 8 places, from the mode's price source. */
  lookUpPriceUsd(input: { network: string; currency: string; livemode: boolean }): Promise<string>;
  /** `blockHash`/`blockNumber`: the block it completes in (a reorg may have moved it since the last report it recorded). */
  completeDeposit(input: {
    depositId: string;
    confirmations: number;
    priceUsd: string;
    blockHash?: string | null;
    blockNumber?: number | null;
  }): Promise<DepositSummary>;
  failDeposit(input: { depositId: string; reason: FailureReason }): Promise<DepositSummary>;
  reverseDeposit(input: { depositId: string }): Promise<DepositSummary>;
  /**
   * A deposit failed or reversed by a reorg whose transfer is back in a canonical block: detected
   * again, at that block, for the amount the transfer pays there (a re-inclusion may pay less).
   */
  reopenDeposit(input: {
    depositId: string;
    blockNumber: number | null;
    blockHash: string | null;
    blockTime?: number | null;
    amount: string;
  }): Promise<DepositSummary>;
}

// ---------------------------------------------------------------------------------------------
// Test mode: simulatedConfirmationsWorkflow, id `simulation:{deposit workflow id}`, a child of the deposit.

export interface SimulatedConfirmationsInput {
  depositWorkflowId: string;
  requiredConfirmations: number;
  blockTimeMs: number;
  blockHash: string;
  outcome: 'completed' | 'failed';
}

/** A simulated deposit's settings, before its deposit workflow's id is known. */
export type SimulatedConfirmations = Omit<SimulatedConfirmationsInput, 'depositWorkflowId'>;

export function simulationWorkflowId(depositWorkflowIdValue: string): string {
  return `simulation:${depositWorkflowIdValue}`;
}

// ---------------------------------------------------------------------------------------------
// Webhooks: webhookDeliveryWorkflow, id `webhook:{eventId}:{endpoint or order id}` (a resend adds its
// delivery id), started by the workflow that emitted the event, or for an event the API wrote, from
// the outbox. eventDispatchWorkflow (`dispatch:{eventId}`) only finishes starts an earlier inflow queued.

export interface PreparedDelivery {
  deliveryId: string;
  eventId: string;
  /** Where it goes: a webhook endpoint's id, or an order's (its callback URL). */
  destinationId: string;
  /** What destinationId names: searchable as `EndpointId`, or as `OrderId` for an order's callback. */
  destinationType: 'endpoint' | 'order';
  /** The event's type and merchant, for the delivery workflow's search attributes and summary. */
  eventType: string;
  merchantId: string;
}

export type DeliveryResult = 'succeeded' | 'gone' | 'stopped' | 'failed';

/** succeeded: a 2xx; retry: anything else; gone: a 410 (the endpoint is disabled); stopped: the endpoint was disabled or deleted. */
export type AttemptOutcome = 'succeeded' | 'retry' | 'gone' | 'stopped';

/** One attempt's outcome and, for the workflow's current details, what the destination answered. */
export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The HTTP status, or null when no answer came (or no request was made). */
  statusCode: number | null;
  /** Why the attempt failed without an HTTP status (a timeout, a refused address), else null. */
  error: string | null;
  /**
   * Present when the POST was made but recording it failed: the workflow records it with
   * recordWebhookAttempt, a step of its own, so a database failure after a POST never sends the
   * POST again.
   */
  unrecorded?: AttemptRecord;
}

/** One attempt as recorded (idempotent by delivery and attempt number), and what it settles. */
export interface AttemptRecord {
  deliveryId: string;
  attemptNumber: number;
  attemptedAt: number;
  statusCode: number | null;
  latencyMs: number;
  succeeded: boolean;
  error: string | null;
  /** The start of the answer, as storable text; null when not kept (a non-public destination). */
  responseBody: string | null;
  /** The delivery's final status when this attempt ends it, else null. */
  settles: 'succeeded' | 'failed' | null;
  /** An endpoint that answered 410, disabled in the same transaction. */
  disablesEndpointId: string | null;
}

/**
 * Delivery workflows run on a task queue of their own, `<taskQueue>-webhooks`, polled by a second
 * worker in every worker process with its own slots: a merchant's slow or blackholed receivers
 * hold those, never the slots deposit and order steps run in.
 */
export function webhookTaskQueue(taskQueue: string): string {
  return `${taskQueue}-webhooks`;
}

export interface EventDispatchInput {
  eventId: string;
  /** The event's type and merchant, for the dispatch workflow's search attributes and summary. */
  eventType: string;
  merchantId: string;
}

/** The first delivery of an event to a destination runs once; a resend is a run of its own. */
export function webhookDeliveryWorkflowId(delivery: PreparedDelivery, redelivery: boolean): string {
  const id = `webhook:${delivery.eventId}:${delivery.destinationId}`;
  return redelivery ? `${id}:${delivery.deliveryId}` : id;
}

export function eventDispatchWorkflowId(eventId: string): string {
  return `dispatch:${eventId}`;
}

export interface WebhookActivities {
  /**
   * Records the first delivery of the event to each subscribed endpoint (idempotent) and lists
   * them: only for a transition result an earlier inflow recorded without its deliveries.
   */
  prepareWebhookDeliveries(input: { eventId: string }): Promise<PreparedDelivery[]>;
  /**
   * One POST; HTTP failures are an outcome, not an error. Database trouble before the POST is
   * retried; after it the activity never fails (a retry would POST again), and an attempt it could
   * not record comes back as `unrecorded`. An attempt number already recorded is not sent again. It
   * answers the bare outcome unless asked for the whole result (`withStatus`): during a rolling
   * upgrade a workflow of the previous version, which compares the answer with 'retry', may have
   * its attempt run by a new worker, and a new workflow's attempt by an old worker (read as a bare
   * outcome by `resultOf`), so neither side ever sees a shape it does not know.
   */
  attemptWebhookDelivery(input: { deliveryId: string; attemptNumber: number; attemptedAt: number; withStatus?: true }): Promise<AttemptResult | AttemptOutcome>;
  /** Records an attempt whose POST was made but not recorded; idempotent, it never sends anything. */
  recordWebhookAttempt(record: AttemptRecord): Promise<void>;
  markWebhookDeliveryFailed(input: { deliveryId: string }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Chains: chainWatcherWorkflow, id `watcher:{mode}:{network}`.

export interface ChainWatcherInput {
  network: Network;
  livemode: boolean;
  pollIntervalMs: number;
}

export interface ScanResult {
  head: number;
  /** The next block to scan; head − nextBlock + 1 blocks are still behind. */
  nextBlock: number;
  lag: number;
  detected: number;
  signalled: number;
}

export interface WatcherState {
  network: string;
  livemode: boolean;
  head: number | null;
  nextBlock: number | null;
  /** Blocks between the cursor and the head: how far the watcher is behind. */
  lag: number | null;
}

export const watcherStateQuery = defineQuery<WatcherState>('watcherState');

export function chainWatcherWorkflowId(chain: { livemode: boolean; network: string }): string {
  return `watcher:${modeOf(chain.livemode)}:${chain.network}`;
}

export interface ChainActivities {
  /** One round: detect transfers, start or signal deposit workflows, then advance the cursor. */
  scanChain(input: { network: Network; livemode: boolean }): Promise<ScanResult>;
}

// ---------------------------------------------------------------------------------------------
// Orders: orderWorkflow, id `order:{mode}:{orderId}`.

export interface OrderWorkflowInput {
  orderId: string;
  merchantId: string;
  livemode: boolean;
  externalId: string;
  network: string;
  currency: string;
  /** When the order expires, in ms since the epoch: a durable timer. */
  expiresAt: number;
  /** `order.created`, written with the order, delivered by the workflow. */
  createdEventId: string;
  /** Its deliveries, recorded with it (absent from an order an earlier inflow queued). */
  createdDeliveries?: PreparedDelivery[];
}

export interface OrderState {
  orderId: string;
  status: OrderStatus;
}

/** A payment to the order's address completed or failed (or was reversed): the order counts its payments again. */
export const orderPaymentSignal = defineSignal<[{ depositId: string }]>('orderPayment');
export const orderStateQuery = defineQuery<OrderState>('orderState');
/** A merchant's cancel: the workflow's verdict is the answer (a settled or paid order refuses it). */
export const cancelOrderUpdate = defineUpdate<OrderState>('cancelOrder');

export function orderWorkflowId(order: { livemode: boolean; orderId: string }): string {
  return `order:${modeOf(order.livemode)}:${order.orderId}`;
}

/** An order transition's result: the order's status now, and the event it emitted, if any. */
export interface OrderVerdict extends EmittedEvent {
  status: OrderStatus;
  /** Past its deadline, but its chain's watcher has not yet scanned a block made after it: a payment may still be found. */
  waitingForChain?: boolean;
}

export interface OrderActivities {
  /** Settles the order if its payments (or its expiry) say so, under the order's row lock. */
  /** `waitForChain`: an expired order stays pending until its chain's watcher has scanned past the deadline (orders started since). */
  evaluateOrder(input: { orderId: string; expired: boolean; waitForChain?: boolean }): Promise<OrderVerdict>;
  /** Cancels a pending order without payments; else fails with `orderNotCancelable`. */
  cancelOrder(input: { orderId: string }): Promise<OrderVerdict>;
}

// ---------------------------------------------------------------------------------------------
// Maintenance: purgeIdempotencyKeysWorkflow, started hourly by the Temporal Schedule
// `purge-idempotency-keys` (visible under Schedules in the Web UI).

export const PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID = 'purge-idempotency-keys';

export interface PurgeIdempotencyKeysInput {
  /** Keys older than this are forgotten (the API replays a key for 24 hours). */
  olderThanHours: number;
}

export interface MaintenanceActivities {
  /** Deletes Idempotency-Keys older than the input says; how many. */
  purgeExpiredIdempotencyKeys(input: PurgeIdempotencyKeysInput): Promise<number>;
}

// ---------------------------------------------------------------------------------------------

export type Activities = DepositActivities & WebhookActivities & ChainActivities & OrderActivities & MaintenanceActivities;

/**
 * Every workflow, by the name the worker registers it under and the client starts it by.
 * `workflows/index.ts` proves at compile time that its exports have these signatures.
 */
export interface Workflows {
  depositWorkflow(input: DepositWorkflowInput): Promise<DepositState>;
  simulatedConfirmationsWorkflow(input: SimulatedConfirmationsInput): Promise<void>;
  webhookDeliveryWorkflow(delivery: PreparedDelivery): Promise<DeliveryResult>;
  eventDispatchWorkflow(input: EventDispatchInput): Promise<void>;
  chainWatcherWorkflow(input: ChainWatcherInput): Promise<never>;
  orderWorkflow(input: OrderWorkflowInput): Promise<OrderState>;
  purgeIdempotencyKeysWorkflow(input: PurgeIdempotencyKeysInput): Promise<number>;
}
