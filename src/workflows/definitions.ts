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
import type { EmittedEvent, PreparedDelivery } from '../domain/events';
import type { OrderVerdict } from '../domain/order-state';
import type { ConfirmationReport, DepositTransfer } from '../domain/transfers';
import type { AttemptOutcome, AttemptRecord, AttemptResult } from '../domain/webhook-attempts';
import { modeOf } from '../domain/mode';
import type { OrderStatus } from '../domain/order-state';
import type { Network } from '../domain/networks';

/** Types the domain owns that cross into workflows, named here too as part of the contract. */
export type { AttemptOutcome, AttemptRecord, AttemptResult, ConfirmationReport, DepositTransfer, EmittedEvent, OrderVerdict, PreparedDelivery };

/**
 * inflow's custom search attributes, the one list every Temporal inflow runs on registers: the dev
 * server's start flags and the test servers are built from it (dev/temporal.ts), the compose file's
 * setup container lists the same (test/unit/docker-compose.test.ts holds the two in step). An
 * operator filters on them in the Web UI or with `temporal workflow list --query` (docs/operations.md):
 * `DepositId = 'dep_…'`, `EventId = 'evt_…' AND EndpointId = 'we_…'`.
 *
 * Temporal's SQL visibility stores (the dev server's SQLite, the compose file's Postgres) hold at most
 * 10 custom Keyword attributes and 3 KeywordList ones. The ids operators look up are Keyword; the
 * transfer's chain facts are one-element KeywordLists, which a query such as `Network = 'ethereum'`
 * matches all the same. A deposit's, an order's and a payout's own status share one Keyword,
 * `ObjectStatus` (with `WorkflowType` to say whose: `WorkflowType = 'payoutWorkflow' AND ObjectStatus = 'queued'`),
 * which left room for `PayoutId`. Both kinds are now full: a new attribute takes another type, or
 * the place of one of these.
 */
export const searchAttributes = {
  MerchantId: defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD),
  CustomerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  DepositId: defineSearchAttributeKey('DepositId', SearchAttributeType.KEYWORD),
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  ExternalId: defineSearchAttributeKey('ExternalId', SearchAttributeType.KEYWORD),
  PayoutId: defineSearchAttributeKey('PayoutId', SearchAttributeType.KEYWORD),
  /** The deposit's, order's or payout's own status (not Temporal's ExecutionStatus), as its workflow last saw it. */
  ObjectStatus: defineSearchAttributeKey('ObjectStatus', SearchAttributeType.KEYWORD),
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
 * Attributes an older inflow registered that no workflow sets any more: the set-ups remove them
 * before registering the list above, which would not fit beside them (DepositStatus and OrderStatus
 * became `ObjectStatus`).
 */
export const retiredSearchAttributes = ['DepositStatus', 'OrderStatus'] as const;

/** The failure types activities throw, and workflows and tests match on (domain/failures.ts). */
export { activityFailureTypes } from '../domain/failures';

// ---------------------------------------------------------------------------------------------
// Deposits: depositWorkflow, id `deposit:{mode}:{network}:{txHash}:{logIndex}`.

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
// delivery id), started by the outbox relay when the first attempt, which the relay makes itself,
// failed (and, in histories of earlier versions, by the workflow that emitted the event).
// eventDispatchWorkflow (`dispatch:{eventId}`) only finishes starts an earlier inflow queued.

export type DeliveryResult = 'succeeded' | 'gone' | 'stopped' | 'failed';

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

/**
 * What a delivery workflow starts with: the delivery and, when the outbox relay made the first
 * attempt and it failed, that attempt's result. The workflow then goes on from the second attempt
 * on the schedule, having recorded the first if it came back `unrecorded`.
 */
export interface DeliveryWorkflowInput extends PreparedDelivery {
  firstAttempt?: AttemptResult;
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
  /**
   * The deliveries of `order.created` the workflow starts: none now, as they are queued with the
   * event for the outbox relay ([]); listed by orders queued before that, absent from older ones.
   */
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

export interface OrderActivities {
  /** Settles the order if its payments (or its expiry) say so, under the order's row lock. */
  /** `waitForChain`: an expired order stays pending until its chain's watcher has scanned past the deadline (orders started since). */
  evaluateOrder(input: { orderId: string; expired: boolean; waitForChain?: boolean }): Promise<OrderVerdict>;
  /** Cancels a pending order without payments; else fails with `orderNotCancelable`. */
  cancelOrder(input: { orderId: string }): Promise<OrderVerdict>;
}

// ---------------------------------------------------------------------------------------------
// Maintenance: purgeIdempotencyKeysWorkflow, started hourly by the Temporal Schedule
// `purge-idempotency-keys`, and pruneRequestLogWorkflow, started hourly by `prune-request-log`
// (visible under Schedules in the Web UI).

export const PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID = 'purge-idempotency-keys';
export const PRUNE_REQUEST_LOG_SCHEDULE_ID = 'prune-request-log';

export interface PurgeIdempotencyKeysInput {
  /** Keys older than this are forgotten (the API replays a key for 24 hours). */
  olderThanHours: number;
}

/**
 * The Schedule starts it with `{}`: the worker's INFLOW_REQUEST_LOG_RETENTION_DAYS applies (read by
 * the activity, not fixed in the Schedule, so a changed setting applies from the next run). An
 * operator starting one by hand may pass other days.
 */
export interface PruneRequestLogInput {
  olderThanDays?: number;
}

/** What a prune of the request log did: rows deleted, the retention it applied, and whether older rows are left for the next run. */
export interface PruneRequestLogResult {
  deleted: number;
  olderThanDays: number;
  more: boolean;
}

export interface MaintenanceActivities {
  /** Deletes Idempotency-Keys older than the input says; how many. */
  purgeExpiredIdempotencyKeys(input: PurgeIdempotencyKeysInput): Promise<number>;
  /** Deletes logged API requests older than the input's days, else the worker's INFLOW_REQUEST_LOG_RETENTION_DAYS. */
  pruneRequestLog(input: PruneRequestLogInput): Promise<PruneRequestLogResult>;
}

// ---------------------------------------------------------------------------------------------
// Treasury (docs/treasury.md): sweepRunWorkflow per network and mode, id
// `sweep-run:{mode}:{network}:{time}`, started by the Schedule `sweep-{mode}-{network}` or
// `npm run cli -- sweep --now`; it starts one sweepWorkflow per address and currency, id
// `sweep:{mode}:{network}:{address}:{currency}:{sweepId}`.

export const sweepScheduleId = (input: { livemode: boolean; network: string }) => `sweep-${modeOf(input.livemode)}-${input.network}`;
/** reconcileWorkflow's daily Schedule per network and mode (`npm run cli -- reconcile` runs the same check at once). */
export const reconcileScheduleId = (input: { livemode: boolean; network: string }) => `reconcile-${modeOf(input.livemode)}-${input.network}`;

/** What a reconciliation compared and found (treasury/reconcile.ts). */
export interface ReconciliationResult {
  runId: string;
  livemode: boolean;
  network: string;
  checked: number;
  inFlight: number;
  differences: Array<{ account: string; address: string; currency: string; expected: string; actual: string }>;
  /** The gas wallet's funding found and booked (absent in runs before it was booked). */
  funded?: Array<{ account?: 'gas_wallet' | 'treasury'; address: string; currency: string; amount: string }>;
  /** The `reconciliation.mismatch` operator event written with the differences (none when there are none). */
  operatorEventId?: string;
}

export interface SweepRunInput {
  livemode: boolean;
  network: Network;
}

export interface SweepRunResult {
  planned: number;
  completed: number;
  skipped: number;
  failed: number;
}

export interface SweepWorkflowInput {
  sweepId: string;
}

export type SweepOutcome = 'completed' | 'skipped' | 'failed';

/** What the sweep's steps answer (treasury/sweeps.service.ts). */
/** delegate (Tron): energy lent from the gas wallet's stake for the transfer, after a top-up of anything else it lacks, and taken back after it. */
export type SweepPlan = { action: 'skip'; reason: string } | { action: 'top_up' | 'send' | 'delegate'; amount: string };
/** `replaced`: a stuck version replaced by a higher fee (EVM) or an expired one built again (Tron); `stuck`: why it waits. */
export type SweepConfirmation =
  | { state: 'waiting'; confirmations: number; required?: number; replaced?: { hash: string; by: string }; stuck?: string }
  | { state: 'confirmed' }
  /** `reason`: why, when it is not that the transaction reverted (a Tron payout's transaction expired unmined). */
  | { state: 'reverted'; reason?: string };
export type SweepPurpose = 'gas_topup' | 'sweep' | 'energy_delegation' | 'energy_reclaim';

export interface TreasuryActivities {
  /** Mirrors deposits into the holdings ledger and records the sweeps due; their workflow ids. */
  planSweeps(input: SweepRunInput): Promise<Array<{ sweepId: string; workflowId: string }>>;
  prepareSweep(input: { sweepId: string }): Promise<SweepPlan>;
  /** Allocates, signs and broadcasts the sweep's top-up or transfer once; every later call re-sends the same bytes. */
  /** `sentId: null`: a top-up the address no longer needs (the fee fell since the plan), so none was sent. */
  sendSweepTransaction(input: { sweepId: string; purpose: SweepPurpose }): Promise<{ sentId: string; hash: string } | { sentId: null; hash: null }>;
  confirmSweepTransaction(input: { sentId: string }): Promise<SweepConfirmation>;
  finishSweep(input: { sweepId: string; completed: boolean; reason?: string }): Promise<void>;
  /** Compares the holdings ledger with the chain; records and returns every difference. */
  reconcileHoldings(input: SweepRunInput & { runId: string }): Promise<ReconciliationResult>;
  /** Sends an operator event to INFLOW_OPERATOR_WEBHOOK_URL once (throws while the receiver does not answer 2xx). */
  deliverOperatorEvent(input: { eventId: string }): Promise<{ delivered: true; status: number } | { delivered: false; reason: string }>;
}

// ---------------------------------------------------------------------------------------------
// Payouts (docs/payouts.md): payoutWorkflow per payout or refund, id `payout:{mode}:{payoutId}`,
// queued in the outbox with the payout's row by the API.

export const payoutWorkflowId = (input: { livemode: boolean; payoutId: string }) => `payout:${modeOf(input.livemode)}:${input.payoutId}`;

export interface PayoutWorkflowInput {
  payoutId: string;
  livemode: boolean;
  merchantId: string;
  network: string;
  currency: string;
  /** Its status when it was made (`pending`, `requires_approval`) or continued as new while waiting (`queued` too): the `ObjectStatus` it starts with; absent from runs started before it was. */
  status?: 'pending' | 'requires_approval' | 'queued';
}

/**
 * Something the payout waits for may have changed (approved or canceled through the API): look now
 * rather than at the next re-check. Sent after the API's commit, best effort: a lost one costs
 * only the wait until that re-check.
 */
export const payoutChangedSignal = defineSignal('payoutChanged');

export type PayoutOutcome = 'completed' | 'failed' | 'canceled';

/**
 * What sending a payout answered: sent (its transaction to follow), waiting for the hot wallet to
 * hold enough (`queued`, with why), or nothing to do because it is over (canceled before it was sent).
 */
export type PayoutSend =
  | { state: 'broadcast'; sentId: string; hash: string }
  /** `operatorEventId`: this payout started a queue, and the operator is told (a `payouts.queued` operator event to deliver). */
  | { state: 'queued'; status: 'queued' | 'requires_approval'; reason: string; operatorEventId?: string }
  | { state: 'over'; status: 'completed' | 'failed' | 'canceled' };

export interface PayoutActivities {
  /** Allocates, signs and broadcasts the payout's transaction once (every later call re-sends the same bytes), or says why it waits. */
  sendPayout(input: { payoutId: string }): Promise<PayoutSend>;
  /** Whether its transaction is final; once final, books it (completed) or records it failed (reverted). */
  confirmPayout(input: { sentId: string }): Promise<SweepConfirmation>;
  /** Records a payout that will not be paid (refused by the signer before anything was sent); what it held is free again. */
  failPayout(input: { payoutId: string; reason: string }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

export type Activities = DepositActivities &
  WebhookActivities &
  ChainActivities &
  OrderActivities &
  MaintenanceActivities &
  TreasuryActivities &
  PayoutActivities;

/**
 * Every workflow, by the name the worker registers it under and the client starts it by.
 * `workflows/index.ts` proves at compile time that its exports have these signatures.
 */
export interface Workflows {
  depositWorkflow(input: DepositWorkflowInput): Promise<DepositState>;
  simulatedConfirmationsWorkflow(input: SimulatedConfirmationsInput): Promise<void>;
  webhookDeliveryWorkflow(delivery: DeliveryWorkflowInput): Promise<DeliveryResult>;
  eventDispatchWorkflow(input: EventDispatchInput): Promise<void>;
  chainWatcherWorkflow(input: ChainWatcherInput): Promise<never>;
  orderWorkflow(input: OrderWorkflowInput): Promise<OrderState>;
  purgeIdempotencyKeysWorkflow(input: PurgeIdempotencyKeysInput): Promise<number>;
  pruneRequestLogWorkflow(input: PruneRequestLogInput): Promise<PruneRequestLogResult>;
  sweepRunWorkflow(input: SweepRunInput): Promise<SweepRunResult>;
  sweepWorkflow(input: SweepWorkflowInput): Promise<SweepOutcome>;
  reconcileWorkflow(input: SweepRunInput): Promise<ReconciliationResult>;
  payoutWorkflow(input: PayoutWorkflowInput): Promise<PayoutOutcome>;
}
