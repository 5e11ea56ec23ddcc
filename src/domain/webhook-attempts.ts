/**
 * One webhook attempt's outcome, as an activity hands it to the delivery workflow, and its record.
 * Plain data: it crosses into workflows (workflows/definitions.ts).
 */

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
