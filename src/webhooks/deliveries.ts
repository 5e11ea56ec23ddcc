/**
 * Webhook delivery, the side-effect half: which endpoints an event goes to, and one attempt at
 * one delivery (POST, record, decide). The retry schedule lives in webhookDeliveryWorkflow.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Db, Executor } from '../db/database';
import { findEventById } from '../db/repositories/events.repository';
import {
  findDeliveryForAttempt,
  insertFirstDeliveries,
  insertRedelivery,
  recordAttempt,
  setDeliveryStatus,
  subscribedEndpoints,
  updateWebhookEndpoint,
} from '../db/repositories/webhooks.repository';
import type { Event } from '../db/tables/events.table';
import { newId } from '../domain/ids';
import { signatureHeaders } from '../domain/signatures';
import { eventObject } from '../events/event.presenter';
import { activityFailureTypes, type AttemptOutcome, type PreparedDelivery } from '../workflows/definitions';
import { postWebhook } from './http';
import { resolvePublicAddress, UnsafeDestinationError } from './ssrf';

export const USER_AGENT = 'inflow-webhooks/0.1.0';

export interface WebhookPolicy {
  /** Live mode may deliver only to https URLs on public addresses unless this is set. */
  allowPrivateNetworksInLive: boolean;
  /** Test mode may deliver to public and loopback addresses (http allowed) unless this is set. */
  allowPrivateNetworksInTest: boolean;
}

/** Whether deliveries in this mode must go to vetted addresses, and whether loopback counts. */
export function destinationRule(policy: WebhookPolicy, livemode: boolean): { vet: boolean; allowLoopback: boolean } {
  return livemode ? { vet: !policy.allowPrivateNetworksInLive, allowLoopback: false } : { vet: !policy.allowPrivateNetworksInTest, allowLoopback: true };
}

/** Records the first delivery of an event to each subscribed endpoint (idempotent) and lists them. */
export async function prepareDeliveries(db: Db, eventId: string): Promise<PreparedDelivery[]> {
  const event = await findEventById(db, eventId);
  if (!event) throw ApplicationFailure.create({ type: activityFailureTypes.eventNotFound, message: `event ${eventId} does not exist` });
  const endpoints = await subscribedEndpoints(db, event);
  const deliveries = await insertFirstDeliveries(
    db,
    endpoints.map((endpoint) => ({ id: newId('webhookDelivery'), event_id: event.id, endpoint_id: endpoint.id })),
  );
  return deliveries.map((delivery) => ({ deliveryId: delivery.id, eventId: delivery.event_id, endpointId: delivery.endpoint_id }));
}

/** A resend: a new, recorded delivery of the event to every endpoint that subscribes to it now. */
export async function prepareRedeliveries(transaction: Executor, event: Event): Promise<PreparedDelivery[]> {
  const deliveries: PreparedDelivery[] = [];
  for (const endpoint of await subscribedEndpoints(transaction, event)) {
    const delivery = await insertRedelivery(transaction, { id: newId('webhookDelivery'), event_id: event.id, endpoint_id: endpoint.id });
    deliveries.push({ deliveryId: delivery.id, eventId: event.id, endpointId: endpoint.id });
  }
  return deliveries;
}

export async function attemptDelivery(
  db: Db,
  policy: WebhookPolicy,
  input: { deliveryId: string; attemptNumber: number; attemptedAt: number },
): Promise<AttemptOutcome> {
  const target = await findDeliveryForAttempt(db, input.deliveryId);
  if (!target) throw ApplicationFailure.create({ type: activityFailureTypes.deliveryNotFound, message: `delivery ${input.deliveryId} does not exist` });
  if (target.delivery_status !== 'pending') return target.delivery_status === 'succeeded' ? 'succeeded' : 'stopped';
  if (target.disabled || target.deleted_at) {
    await setDeliveryStatus(db, input.deliveryId, 'failed');
    return 'stopped';
  }

  const rawBody = JSON.stringify(
    eventObject({ id: target.event_id, type: target.type, created_at: target.created_at, livemode: target.livemode, data: target.data }),
  );
  const secrets = [target.secret];
  if (target.previous_secret && target.previous_secret_expires_at && target.previous_secret_expires_at.getTime() > Date.now())
    secrets.push(target.previous_secret);
  const headers = {
    ...signatureHeaders({ messageId: target.event_id, timestampSeconds: Math.floor(Date.now() / 1000), rawBody, secrets }),
    'User-Agent': USER_AGENT,
  };

  const url = new URL(target.url);
  const rule = destinationRule(policy, target.livemode);
  let result;
  try {
    const pinnedAddress = rule.vet ? await resolvePublicAddress(url.hostname, { allowLoopback: rule.allowLoopback }) : undefined;
    result = await postWebhook(url, rawBody, headers, pinnedAddress ? { pinnedAddress } : {});
  } catch (error) {
    // A refused or unresolvable destination is a failed attempt, retried on the schedule.
    if (!(error instanceof UnsafeDestinationError)) throw error;
    result = { statusCode: null, latencyMs: 0, responseBody: null, error: error.message };
  }

  const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  await recordAttempt(db, {
    delivery_id: input.deliveryId,
    attempt_number: input.attemptNumber,
    attempted_at: new Date(input.attemptedAt),
    status_code: result.statusCode,
    latency_ms: result.latencyMs,
    succeeded,
    error: result.error ?? (succeeded ? null : `HTTP ${result.statusCode}`),
    response_body: result.responseBody,
  });
  if (succeeded) {
    await setDeliveryStatus(db, input.deliveryId, 'succeeded');
    return 'succeeded';
  }
  if (result.statusCode === 410) {
    await updateWebhookEndpoint(db, target.endpoint_id, { disabled: true, disabled_reason: 'The endpoint answered 410 Gone.' });
    await setDeliveryStatus(db, input.deliveryId, 'failed');
    return 'gone';
  }
  return 'retry';
}

export async function markDeliveryFailed(db: Db, deliveryId: string): Promise<void> {
  await setDeliveryStatus(db, deliveryId, 'failed');
}
