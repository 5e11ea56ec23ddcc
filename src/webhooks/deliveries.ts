/**
 * Webhook delivery, the side-effect half: one attempt at one delivery (POST, record, decide). The
 * deliveries themselves are recorded with their event (events/emitter.ts); the retry schedule
 * lives in webhookDeliveryWorkflow. Endpoints receive the event object signed with their secrets;
 * an order's callback URL receives the CryptoPayments callback body, fixed when the delivery was
 * recorded and signed with the merchant's API key.
 */
import { inTransaction, type Db } from '../db/database';
import { findSigningKey } from '../api-keys/api-keys.repository';
import { findDeliveryForAttempt, recordAttempt, setDeliveryStatus, updateWebhookEndpoint } from './webhooks.repository';
import { activityFailureTypes, missing, StepFailure } from '../domain/failures';
import { signatureHeaders, type WebhookSignatureFormat } from '../domain/signatures';
import type { AttemptOutcome, AttemptRecord, AttemptResult } from '../domain/webhook-attempts';
import { eventObject } from '../events/event.presenter';
import type { EventObject } from '../events/events.schema';
import { SecretKeyError, unsealApiKey } from '../merchants/sealed-keys';
import { CALLBACK_SIGNATURE_HEADER, callbackSignature } from '../orders/callback';
import { openWebhookSecret } from './sealed-secrets';
import { DELIVERY_TIMEOUT_MS, postWebhook, storableString, type PostResult } from './http';
import { isPublicAddress, resolvePublicAddress, UnsafeDestinationError } from './ssrf';

export const USER_AGENT = 'inflow-webhooks/0.1.0';

export interface WebhookPolicy {
  /** Live mode may deliver only to https URLs on public addresses unless this is set (INFLOW_WEBHOOKS_LIVE_ALLOW_PRIVATE: any address). */
  allowPrivateNetworksInLive: boolean;
  /** Test mode (http allowed) may deliver only to public addresses unless this is set (INFLOW_WEBHOOKS_TEST_ALLOW_PRIVATE: any address, loopback too). */
  allowPrivateNetworksInTest: boolean;
  /**
   * Test mode may also deliver to loopback (http://localhost) when this is set
   * (INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK): a development stack's choice, as on a shared host every
   * merchant's test key could otherwise reach the host's own services.
   */
  allowLoopbackInTest: boolean;
}

/**
 * The policy of a development stack (`npm run dev` sets INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK=true):
 * test endpoints may be on loopback, nothing else private. The benchmarks' and tests' workers use
 * it, as their receivers listen on loopback.
 */
export const developmentWebhookPolicy: Readonly<WebhookPolicy> = Object.freeze({
  allowPrivateNetworksInLive: false,
  allowPrivateNetworksInTest: false,
  allowLoopbackInTest: true,
});

/** Whether deliveries in this mode must go to vetted addresses, and whether loopback counts. */
export function destinationRule(policy: WebhookPolicy, livemode: boolean): { vet: boolean; allowLoopback: boolean } {
  return livemode
    ? { vet: !policy.allowPrivateNetworksInLive, allowLoopback: false }
    : { vet: !policy.allowPrivateNetworksInTest, allowLoopback: policy.allowLoopbackInTest };
}

/** The workflow's startToCloseTimeout for an attempt (webhook-delivery.workflow.ts), for callers outside an activity. */
export const ATTEMPT_TIMEOUT_MS = 45_000;

/** The failure type of an attempt that started too late to wait out its POST's deadline (it sent nothing; retried). */
export const ATTEMPT_STARTED_TOO_LATE = activityFailureTypes.webhookAttemptStartedTooLate;

/**
 * When an attempt that began at `startedAt`, in an activity of `timeoutMs` (startToCloseTimeout),
 * must have answered: a tenth of the timeout earlier, at most 5 s, for the answer to reach the
 * worker's core through a busy event loop (the timeout's clock starts a little before the activity
 * function does). Past the timeout the attempt is run again, and after a POST that sends it twice.
 */
export function attemptDeadline(startedAt: number, timeoutMs = ATTEMPT_TIMEOUT_MS): number {
  return startedAt + timeoutMs - Math.min(5_000, timeoutMs / 10);
}

export interface AttemptDeps {
  policy: WebhookPolicy;
  secretKey: Buffer;
  /**
   * Whether an answer from this connected address is stored (and so shown by GET /events/:id and
   * the dashboard): only from public addresses, so a loopback or private service, even one the
   * operator lets test endpoints reach, is never read back through inflow.
   */
  keepsAnswerFrom?: (remoteAddress: string) => boolean;
  /** The POST's deadline (DELIVERY_TIMEOUT_MS unless a test shortens it). */
  timeoutMs?: number;
}

/**
 * One attempt: POST, record, decide. Invariant: at most one POST per (delivery, attempt number)
 * whatever the database does. Failures before the POST throw (the activity is retried; nothing was
 * sent). After the POST nothing throws: the attempt is recorded here if the database allows it in
 * time, else handed back as `unrecorded` for the workflow's recordWebhookAttempt step. A number
 * already recorded (a retry of an attempt whose completion was lost) is answered from its record.
 *
 * `deadline` (attemptDeadline) is when the attempt must have answered: a POST that could still be
 * running then is not started (the reads and the DNS lookup before it took too long: it throws,
 * nothing sent), and recording gets only the time left after the POST.
 */
export async function attemptDelivery(
  db: Db,
  deps: AttemptDeps,
  input: { deliveryId: string; attemptNumber: number; attemptedAt: number },
  deadline = attemptDeadline(Date.now()),
): Promise<AttemptResult> {
  const target = await findDeliveryForAttempt(db, input.deliveryId, input.attemptNumber);
  if (!target) throw missing(activityFailureTypes.deliveryNotFound, 'delivery', input.deliveryId);
  const unanswered = (outcome: 'succeeded' | 'stopped'): AttemptResult => ({ outcome, statusCode: null, error: null });
  if (target.delivery_status !== 'pending') return unanswered(target.delivery_status === 'succeeded' ? 'succeeded' : 'stopped');
  if (target.recorded_attempt_id !== null)
    return {
      outcome: outcomeOf(target.recorded_succeeded!, target.recorded_status_code),
      statusCode: target.recorded_status_code,
      error: target.recorded_error,
    };
  if (target.disabled || target.deleted_at) {
    await setDeliveryStatus(db, input.deliveryId, 'failed');
    return unanswered('stopped');
  }

  const request = target.order_id ? await callbackRequest(db, deps.secretKey, target) : endpointRequest(target, deps.secretKey);
  const failedAttempt = (error: string): PostResult => ({
    statusCode: null,
    latencyMs: 0,
    responseBody: null,
    error: storableString(error),
    remoteAddress: null,
  });
  let result: PostResult | undefined;
  if ('refusal' in request) {
    result = failedAttempt(request.refusal);
  } else {
    const url = new URL(request.url);
    const rule = destinationRule(deps.policy, target.livemode);
    let pinnedAddress;
    try {
      pinnedAddress = rule.vet ? await resolvePublicAddress(url.hostname, { allowLoopback: rule.allowLoopback }) : undefined;
    } catch (error) {
      // A refused or unresolvable destination is a failed attempt, retried on the schedule.
      if (!(error instanceof UnsafeDestinationError)) throw error;
      result = failedAttempt(error.message);
    }
    if (!result) {
      const postTimeoutMs = deps.timeoutMs ?? DELIVERY_TIMEOUT_MS;
      const leftMs = deadline - Date.now();
      if (leftMs < postTimeoutMs)
        throw new StepFailure(
          ATTEMPT_STARTED_TOO_LATE,
          `attempt ${input.attemptNumber} of ${input.deliveryId} has ${Math.max(0, leftMs)} ms left, less than the POST's ${postTimeoutMs} ms: nothing was sent`,
          { retryable: true },
        );
      result = await postWebhook(url, request.rawBody, request.headers, {
        ...(pinnedAddress ? { pinnedAddress } : {}),
        timeoutMs: postTimeoutMs,
      });
    }
  }

  // From here on, nothing may throw: the POST has been made.
  const keepsAnswerFrom = deps.keepsAnswerFrom ?? isPublicAddress;
  const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  // An endpoint that answers 410 is disabled; a callback URL stops receiving this callback.
  const gone = result.statusCode === 410;
  const record: AttemptRecord = {
    deliveryId: input.deliveryId,
    attemptNumber: input.attemptNumber,
    attemptedAt: input.attemptedAt,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    succeeded,
    error: result.error ?? (succeeded ? null : `HTTP ${result.statusCode}`),
    responseBody: result.remoteAddress !== null && keepsAnswerFrom(result.remoteAddress) ? result.responseBody : null,
    settles: succeeded ? 'succeeded' : gone ? 'failed' : null,
    disablesEndpointId: gone ? target.endpoint_id : null,
  };
  const outcome = outcomeOf(succeeded, result.statusCode);
  const answer: AttemptResult = { outcome, statusCode: result.statusCode, error: result.error ?? null };
  return (await recordedWithin(db, record, deadline - Date.now())) ? answer : { ...answer, unrecorded: record };
}

function outcomeOf(succeeded: boolean, statusCode: number | null): AttemptOutcome {
  return succeeded ? 'succeeded' : statusCode === 410 ? 'gone' : 'retry';
}

/** Records an attempt (idempotent by delivery and attempt number) and what it settles; a 410 also disables its endpoint. */
export async function recordAttemptOutcome(db: Db, record: AttemptRecord): Promise<void> {
  const attempt = {
    delivery_id: record.deliveryId,
    attempt_number: record.attemptNumber,
    attempted_at: new Date(record.attemptedAt),
    status_code: record.statusCode,
    latency_ms: record.latencyMs,
    succeeded: record.succeeded,
    error: record.error,
    response_body: record.responseBody,
  };
  const endpointId = record.disablesEndpointId;
  if (endpointId) {
    await inTransaction(db, async (transaction) => {
      await updateWebhookEndpoint(transaction, endpointId, { disabled: true, disabled_reason: 'The endpoint answered 410 Gone.' });
      await recordAttempt(transaction, attempt, record.settles);
    });
  } else {
    await recordAttempt(db, attempt, record.settles);
  }
}

/** Whether the attempt was recorded within `budgetMs`; a failure or a late answer is false (a late write that lands is harmless: recording is idempotent). */
export async function recordedWithin(db: Db, record: AttemptRecord, budgetMs: number): Promise<boolean> {
  if (budgetMs <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      recordAttemptOutcome(db, record).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), budgetMs))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

type DeliveryTarget = NonNullable<Awaited<ReturnType<typeof findDeliveryForAttempt>>>;

/** What to POST, or why this attempt cannot be made (recorded as its error, and retried on the schedule). */
type OutgoingRequest = { url: string; rawBody: string; headers: Record<string, string> } | { refusal: string };

/**
 * The event object, compact, signed with the endpoint's secrets (both while a rotated one is
 * honoured), opened from their sealed form (sealed-secrets.ts); one that does not open is this
 * attempt's error, as a callback's unopenable key is.
 */
function endpointRequest(target: DeliveryTarget, secretKey: Buffer): OutgoingRequest {
  const endpointId = target.endpoint_id!;
  const secrets: string[] = [];
  try {
    secrets.push(openWebhookSecret(target.secret!, secretKey, endpointId));
    if (target.previous_secret && target.previous_secret_expires_at && target.previous_secret_expires_at.getTime() > Date.now())
      secrets.push(openWebhookSecret(target.previous_secret, secretKey, endpointId));
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    return { refusal: error.message };
  }
  const event = eventObject({ id: target.event_id, type: target.type, created_at: target.created_at, livemode: target.livemode, data: target.data });
  return { url: target.url!, ...signedEventRequest(event, secrets, target.x_webhook_signature_format ?? 'compact') };
}

/**
 * The body and headers of an endpoint's delivery of `event`: the event object as compact JSON,
 * signed with `secrets` now (`X-Webhook-Signature` in the endpoint's `format`). `npm run cli --
 * listen` sends its forwards through this too, so a local receiver sees exactly what a real
 * endpoint would.
 */
export function signedEventRequest(
  event: EventObject,
  secrets: string[],
  format: WebhookSignatureFormat = 'compact',
): { rawBody: string; headers: Record<string, string> } {
  const rawBody = JSON.stringify(event);
  return {
    rawBody,
    headers: {
      ...signatureHeaders({ messageId: event.id, timestampSeconds: Math.floor(Date.now() / 1000), rawBody, secrets, format }),
      'User-Agent': USER_AGENT,
    },
  };
}

/** The prepared CryptoPayments body, signed with the merchant's newest API key of the event's mode. */
async function callbackRequest(db: Db, secretKey: Buffer, target: DeliveryTarget): Promise<OutgoingRequest> {
  const key = await findSigningKey(db, { merchantId: target.merchant_id, livemode: target.livemode });
  if (!key) return { refusal: 'no API key of this merchant and mode can sign callbacks (its keys were made before keys were sealed): issue a new key' };
  let apiKey: string;
  try {
    apiKey = unsealApiKey(key.sealed_key, secretKey, key.id);
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    return { refusal: error.message };
  }
  const rawBody = target.body!;
  return {
    url: target.callback_url!,
    rawBody,
    headers: { [CALLBACK_SIGNATURE_HEADER]: callbackSignature(rawBody, apiKey), 'webhook-id': target.event_id, 'User-Agent': USER_AGENT },
  };
}

export async function markDeliveryFailed(db: Db, deliveryId: string): Promise<void> {
  await setDeliveryStatus(db, deliveryId, 'failed');
}
