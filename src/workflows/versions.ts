/**
 * Versioning in one place: every patch id the workflows test with `patched()`, and every other
 * path kept alive for runs, rows or workers an earlier inflow left behind, with what each keeps
 * alive, what proves it still works, and when it may go. A change to a workflow that alters the
 * commands an existing history holds adds its patch here; `test/unit/versions.test.ts` fails on a
 * `patched()` whose id is not listed, and on a listed proof that does not exist.
 *
 * How one goes: when no run it keeps alive can still be open (the condition below, checked with
 * `temporal workflow list --query '…'` on every namespace), replace `patched(id)` by
 * `deprecatePatch(id)` for one release, then delete the old path and the entry.
 */

/** The ids `patched()` is called with, each decided once, from a run's first workflow task. */
export const patches = {
  depositStepsAsLocalActivities: 'deposit-steps-as-local-activities',
  depositFollowsItsBlock: 'deposit-follows-its-block',
  orderFollowsTheChain: 'order-follows-the-chain',
  webhookAttemptsAsLocalActivities: 'webhook-attempts-as-local-activities',
  webhookAttemptRecordedApart: 'webhook-attempt-recorded-apart',
  webhookDeliveriesOnTheirOwnQueue: 'webhook-deliveries-on-their-own-queue',
  sweepConfirmationsPaced: 'sweep-confirmations-paced',
  payoutStatusAttribute: 'payout-status-attribute',
  payoutWakes: 'payout-wakes',
} as const;

export interface KeptAlive {
  /** A patch id, or the name of a kept path (function, field, workflow type). */
  name: string;
  kind: 'patch' | 'path';
  /** The commit that made it a compatibility path. */
  since: string;
  /** Where the old path lives. */
  where: string;
  /** What would break without it. */
  keepsAlive: string;
  /** The recorded history under test/workflows/fixtures/histories that replays through the old path, if one does. */
  provenBy: string | null;
  /** When it may be removed. */
  mayGoWhen: string;
}

const recorded = {
  deposit: 'b5bd1d5-deposit-simulated.json',
  delivery: 'b5bd1d5-delivery-retried.json',
  dispatch: 'b5bd1d5-event-dispatch.json',
} as const;

export const keptAlive: readonly KeptAlive[] = [
  {
    name: patches.depositStepsAsLocalActivities,
    kind: 'patch',
    since: 'ebdb456',
    where: 'src/workflows/deposit.workflow.ts (activitySteps)',
    keepsAlive: 'deposits started before their steps became local activities: they keep scheduling activity tasks',
    provenBy: recorded.deposit,
    mayGoWhen: 'no depositWorkflow started before ebdb456 is open (deposits end within days; reorged ones are watched 7 days)',
  },
  {
    name: patches.depositFollowsItsBlock,
    kind: 'patch',
    since: '3a61923',
    where: 'src/workflows/deposit.workflow.ts (followsItsBlock)',
    keepsAlive: 'deposits started before a moved deposit took its new block’s confirmations: they keep the highest count seen',
    provenBy: recorded.deposit,
    mayGoWhen: 'no depositWorkflow started before 3a61923 is open',
  },
  {
    name: patches.orderFollowsTheChain,
    kind: 'patch',
    since: '7f5fdcf',
    where: 'src/workflows/order.workflow.ts (followsTheChain)',
    keepsAlive: 'orders started before they followed the chain: no evaluation at start, no wait for the watcher past the deadline',
    provenBy: null,
    mayGoWhen: 'no orderWorkflow started before 7f5fdcf is open (an order lives until its deadline, then settles)',
  },
  {
    name: patches.sweepConfirmationsPaced,
    kind: 'patch',
    since: 'this commit (sweep confirmations paced)',
    where: 'src/workflows/treasury.workflow.ts (untilFinal)',
    keepsAlive: 'sweeps started before their confirmation polls followed the chain’s pace: they keep asking every 2 s',
    provenBy: null,
    mayGoWhen: 'no sweepWorkflow started before it is open (a sweep ends within minutes of its transactions being final)',
  },
  {
    name: patches.payoutStatusAttribute,
    kind: 'patch',
    since: 'this commit (payouts keep the Status search attribute)',
    where: 'src/workflows/payout.workflow.ts (show)',
    keepsAlive: 'payouts started before they kept their Status: they upsert no search attribute',
    provenBy: null,
    mayGoWhen: 'no payoutWorkflow started before it is open (a payout ends within minutes of its transaction being final)',
  },
  {
    name: patches.payoutWakes,
    kind: 'patch',
    since: 'this commit (waiting payouts are woken, their waits growing)',
    where: 'src/workflows/payout.workflow.ts (the wait of a queued or unapproved payout)',
    keepsAlive: 'payouts started before it waited in a fixed 15 s sleep: they keep sleeping so',
    provenBy: null,
    mayGoWhen: 'no payoutWorkflow started before it is open (an unapproved payout may wait days; check with ObjectStatus)',
  },
  {
    name: patches.webhookAttemptsAsLocalActivities,
    kind: 'patch',
    since: 'e0748d6',
    where: 'src/workflows/webhook-delivery.workflow.ts (activities)',
    keepsAlive: 'deliveries started before attempts became local activities: they keep scheduling activity tasks',
    provenBy: recorded.delivery,
    mayGoWhen: 'no webhookDeliveryWorkflow started before e0748d6 is open (a delivery gives up after about 3.6 days)',
  },
  {
    name: patches.webhookAttemptRecordedApart,
    kind: 'patch',
    since: '2cc483e',
    where: 'src/workflows/webhook-delivery.workflow.ts (recordWebhookAttempt step)',
    keepsAlive: 'deliveries whose history holds an attempt result without the separate recording step',
    provenBy: recorded.delivery,
    mayGoWhen: 'no webhookDeliveryWorkflow started before 2cc483e is open',
  },
  {
    name: patches.webhookDeliveriesOnTheirOwnQueue,
    kind: 'patch',
    since: '2cc483e',
    where: 'src/workflows/webhook-delivery.workflow.ts (startDelivery)',
    keepsAlive: 'parents (deposits, orders) that started their deliveries on their own task queue',
    provenBy: recorded.deposit,
    mayGoWhen: 'no depositWorkflow or orderWorkflow started before 2cc483e is open',
  },
  {
    name: 'eventDispatchWorkflow',
    kind: 'path',
    since: '9191135',
    where: 'src/workflows/webhook-delivery.workflow.ts',
    keepsAlive: 'outbox rows and running dispatch workflows an earlier API queued for an event it wrote',
    provenBy: recorded.dispatch,
    mayGoWhen: 'no outbox row names eventDispatchWorkflow and no run of it is open (rows are relayed in seconds; runs end when their children start)',
  },
  {
    name: 'startDeliveries without emitted.deliveries (prepareWebhookDeliveries)',
    kind: 'path',
    since: '9191135',
    where: 'src/workflows/webhook-delivery.workflow.ts (startDeliveries)',
    keepsAlive: 'transitions recorded before a transition recorded its deliveries itself: the workflow prepares them, as then',
    provenBy: recorded.deposit,
    mayGoWhen: 'no depositWorkflow or orderWorkflow started before 9191135 is open',
  },
  {
    name: 'resultOf (a bare AttemptOutcome)',
    kind: 'path',
    since: '2812c4e',
    where: 'src/workflows/webhook-delivery.workflow.ts (resultOf)',
    keepsAlive: 'deliveries retrying when results began to carry the status code, and attempts an older worker answers in a rolling upgrade',
    provenBy: recorded.delivery,
    mayGoWhen: 'no webhookDeliveryWorkflow started before 2812c4e is open and no older worker runs',
  },
  {
    name: 'attemptWebhookDelivery without withStatus',
    kind: 'path',
    since: '2812c4e',
    where: 'src/activities/webhook.activities.ts',
    keepsAlive: 'workflows of an earlier version asking for the bare outcome: the attempt records itself within its deadline, since failing would POST again',
    provenBy: recorded.delivery,
    mayGoWhen: 'as resultOf',
  },
  {
    name: 'DepositTransfer.legacyLogIndex',
    kind: 'path',
    since: '3a61923',
    where: 'src/workflows/definitions.ts, deposits.legacy_log_index',
    keepsAlive: 'EVM token deposits numbered among the configured tokens’ transfers, whose workflow ids carry that number',
    provenBy: null,
    mayGoWhen: 'never while such rows exist: their workflow ids depend on it',
  },
];

/**
 * The retry policy of every workflow's activities: database or node trouble is retried until it
 * passes, from 1 s doubling to once a minute; nothing is lost meanwhile. Workflows add to it (a
 * non-retryable failure type, a cap on attempts), never restate it.
 */
export const activityRetry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
