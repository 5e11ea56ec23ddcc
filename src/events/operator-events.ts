/**
 * Operator events (docs/operations.md#operator-events): what the people who run inflow must be told
 * of, such as a reconciliation that found the ledger and the chain disagree. They belong to no
 * merchant: no endpoint or callback gets them. The emitter writes them (emitOperatorEvent, in the
 * transaction of what they are about); the workflow that emitted one delivers it here to
 * INFLOW_OPERATOR_WEBHOOK_URL, signed as Standard Webhooks with INFLOW_OPERATOR_WEBHOOK_SECRET, and
 * retries until the receiver answers 2xx. `npm run cli -- operator-events` lists them.
 */
import type { Executor } from '../db/database';
import { signatureHeaders } from '../domain/signatures';
import type { OperatorEvent } from './events.table';

export interface OperatorWebhook {
  url: string;
  /** whsec_…: Standard Webhooks' form. */
  secret: string;
}

const USER_AGENT = 'inflow-operator-events/1';
const TIMEOUT_MS = 10_000;

/** The event as the operator's receiver gets it (and as the CLI prints it). */
export function operatorEventObject(event: OperatorEvent) {
  return { id: event.id, object: 'operator_event', type: event.type, livemode: event.livemode, created_at: event.created_at.toISOString(), data: event.data };
}

export async function insertOperatorEvent(db: Executor, event: Pick<OperatorEvent, 'id' | 'type' | 'livemode' | 'data'>): Promise<OperatorEvent> {
  return db
    .insertInto('operator_events')
    .values({ ...event, data: JSON.stringify(event.data) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listOperatorEvents(db: Executor, limit: number): Promise<OperatorEvent[]> {
  return db.selectFrom('operator_events').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

export type OperatorDelivery = { delivered: true; status: number } | { delivered: false; reason: string };

/**
 * Sends the event once to the operator's webhook, unless it was delivered before. A receiver that
 * does not answer 2xx in time is recorded (attempts, last_error) and thrown, for the caller's retry;
 * no webhook configured answers `delivered: false` and leaves the event to be listed.
 */
export async function deliverOperatorEvent(db: Executor, webhook: OperatorWebhook | undefined, eventId: string): Promise<OperatorDelivery> {
  const event = await db.selectFrom('operator_events').selectAll().where('id', '=', eventId).executeTakeFirst();
  if (!event) throw new Error(`no operator event ${eventId}`);
  if (event.delivered_at) return { delivered: true, status: 200 };
  if (!webhook) return { delivered: false, reason: 'no INFLOW_OPERATOR_WEBHOOK_URL is configured: list it with npm run cli -- operator-events' };
  const rawBody = JSON.stringify(operatorEventObject(event));
  const headers = signatureHeaders({ messageId: event.id, timestampSeconds: Math.floor(Date.now() / 1000), rawBody, secrets: [webhook.secret] });
  let failure: string;
  try {
    // A receiver's redirect is not followed, and its body is not read: the status alone says whether it took the event.
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', 'User-Agent': USER_AGENT },
      body: rawBody,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      await db
        .updateTable('operator_events')
        .set((eb) => ({ delivered_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
        .where('id', '=', event.id)
        .execute();
      return { delivered: true, status: response.status };
    }
    failure = `the operator's webhook answered HTTP ${response.status}`;
  } catch (error) {
    failure = `the operator's webhook could not be reached: ${(error as Error).message}`;
  }
  await db
    .updateTable('operator_events')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: failure }))
    .where('id', '=', event.id)
    .execute();
  throw new Error(failure);
}
