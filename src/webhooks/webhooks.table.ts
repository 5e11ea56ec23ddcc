import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { WebhookSignatureFormat } from '../domain/signatures';

export interface WebhookEndpointsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  url: string;
  description: string | null;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  disabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: string | null;
  /** What X-Webhook-Signature is the HMAC of (domain/signatures.ts). */
  x_webhook_signature_format: ColumnType<WebhookSignatureFormat, WebhookSignatureFormat | undefined, WebhookSignatureFormat>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  deleted_at: Date | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  /** Where it goes: a webhook endpoint, or the callback URL of an order. */
  endpoint_id: string | null;
  order_id: string | null;
  /** The exact body to send, when it is not the event object (an order callback). */
  body: string | null;
  redelivery: boolean;
  status: DeliveryStatus;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt_number: number;
  attempted_at: Date;
  status_code: number | null;
  latency_ms: number;
  succeeded: boolean;
  error: string | null;
  response_body: string | null;
}

export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type NewWebhookEndpoint = Insertable<WebhookEndpointsTable>;
export type WebhookEndpointUpdate = Updateable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type WebhookAttempt = Selectable<WebhookAttemptsTable>;

/** The tables of webhook endpoints, deliveries and attempts, as the `Database` type joins them (db/database.ts). */
export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
