/**
 * What goes wrong in a step a workflow runs, in the domain's words. Services throw a StepFailure;
 * the activity edge (activities/failures.ts) turns it into a Temporal ApplicationFailure of the
 * same `type`, as api/middleware/errors.ts turns an InflowError into an HTTP answer. Services never
 * import Temporal, and a step reached over HTTP instead (a simulated deposit's transition) fails
 * as any unexpected error does there.
 *
 * The types name what a retry cannot fix by itself (a row that does not exist, a price that does
 * not parse, a chain without a node): such failures are non-retryable, so the activity fails at
 * once with its type and message in the Web UI's history instead of retrying forever. Where the
 * cause can be repaired while the workflow waits (a price feed), the workflow asks again after a
 * pause of its own. Workflows and tests match on these strings, never on an error's class name.
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
  /** Retryable: a webhook attempt that started too late to wait out its POST's deadline sent nothing. */
  webhookAttemptStartedTooLate: 'WebhookAttemptStartedTooLate',
  /** The treasury has no signer, no treasury address or no node for the network and mode: nothing is sent. */
  treasuryNotConfigured: 'TreasuryNotConfigured',
  sweepNotFound: 'SweepNotFound',
  payoutNotFound: 'PayoutNotFound',
  /** The signer's policy refused what it was asked to sign: final (a bug, or a worker that must not be trusted). */
  signerRefused: 'SignerRefused',
} as const;

export type ActivityFailureType = (typeof activityFailureTypes)[keyof typeof activityFailureTypes];

/**
 * A step's failure. `type` and `nonRetryable` read as an ApplicationFailure's do, so code and tests
 * that call a service directly see the same shape the workflow sees.
 */
export class StepFailure extends Error {
  readonly nonRetryable: boolean;

  constructor(
    readonly type: ActivityFailureType,
    message: string,
    options: { retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'StepFailure';
    this.nonRetryable = !options.retryable;
  }
}

/** A row a step was handed by id does not exist: a bug no retry can fix. */
export function missing(type: ActivityFailureType, what: string, id: string): StepFailure {
  return new StepFailure(type, `${what} ${id} does not exist`);
}
