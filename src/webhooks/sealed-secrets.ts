/**
 * Webhook endpoint signing secrets, sealed at rest as API keys are (src/merchants/sealed-keys.ts):
 * AES-256-GCM under INFLOW_SECRET_KEY with the endpoint's id as associated data, so the database
 * alone cannot sign a delivery and a sealed value copied onto another endpoint does not open. The
 * current and the previous secret are sealed under the same label, so a rotation moves the sealed
 * current value into `previous_secret` as it is.
 *
 * Rows written before sealing hold `whsec_…` in plaintext. They are sealed by
 * sealPlaintextWebhookSecrets, which `npm run migrate` runs when INFLOW_SECRET_KEY is set and the
 * API runs at every start (it always has the key); until then a delivery signs with the plaintext
 * value as before, so no endpoint stops receiving in between.
 *
 * The answers that carry a secret in plaintext (create, rotate-secret) are also kept for their
 * Idempotency-Key's 24 h, so that a retry gets the same secret; they are sealed the same way
 * (sealStoredResponse), or a copy of idempotency_keys would sign deliveries for a day.
 */
import type { Db } from '../db/database';
import { plaintextSecretAnswers, replaceIdempotentResponse } from '../api/idempotency-keys.repository';
import { plaintextSecretEndpoints, replaceEndpointSecrets } from './webhooks.repository';
import { SECRET_PREFIX } from '../domain/signatures';
import { sealApiKey, unsealApiKey } from '../merchants/sealed-keys';

const label = (endpointId: string) => `webhook_endpoint:${endpointId}`;

/** The associated data of a stored answer: its key's whole scope, so it opens for that key only. */
const responseLabel = (scope: { merchantId: string; livemode: boolean; key: string }) =>
  `idempotency_key:${scope.merchantId}:${scope.livemode ? 'live' : 'test'}:${scope.key}`;

/** Whether a stored value is a legacy plaintext secret (sealed values start with their format version). */
export function isPlaintextSecret(stored: string): boolean {
  return stored.startsWith(SECRET_PREFIX);
}

export function sealWebhookSecret(secret: string, secretKey: Buffer, endpointId: string): string {
  return sealApiKey(secret, secretKey, label(endpointId));
}

/** The stored value sealed: as it is when sealed already, else sealed now. */
export function sealedWebhookSecret(stored: string, secretKey: Buffer, endpointId: string): string {
  return isPlaintextSecret(stored) ? sealWebhookSecret(stored, secretKey, endpointId) : stored;
}

/** The secret to sign with; a SecretKeyError when it was sealed under another server key or altered. */
export function openWebhookSecret(stored: string, secretKey: Buffer, endpointId: string): string {
  return isPlaintextSecret(stored) ? stored : unsealApiKey(stored, secretKey, label(endpointId));
}

/** An idempotent answer's JSON text as stored when the operation's answer carries a secret. */
export function sealStoredResponse(body: string, secretKey: Buffer, scope: { merchantId: string; livemode: boolean; key: string }): string {
  return sealApiKey(body, secretKey, responseLabel(scope));
}

/** Whether a stored answer is sealed: JSON text never starts with the sealed format's `v1.`. */
export function isSealedResponse(stored: string): boolean {
  return stored.startsWith('v1.');
}

/** The stored answer's JSON text: opened when sealed (a SecretKeyError under another server key), else as stored. */
export function openStoredResponse(stored: string, secretKey: Buffer, scope: { merchantId: string; livemode: boolean; key: string }): string {
  return isSealedResponse(stored) ? unsealApiKey(stored, secretKey, responseLabel(scope)) : stored;
}

/**
 * Seals every endpoint secret still stored in plaintext; returns how many endpoints it sealed.
 * Safe to run at any time and from several processes: each row is replaced only if it still holds
 * the plaintext value read (a rotation in between wins).
 */
export async function sealPlaintextWebhookSecrets(db: Db, secretKey: Buffer): Promise<number> {
  await sealStoredSecretAnswers(db, secretKey);
  let sealed = 0;
  for (;;) {
    const rows = await plaintextSecretEndpoints(db, 500);
    if (rows.length === 0) return sealed;
    let batch = 0;
    for (const row of rows) {
      const replaced = await replaceEndpointSecrets(db, row, {
        secret: sealedWebhookSecret(row.secret, secretKey, row.id),
        previous_secret: row.previous_secret === null ? null : sealedWebhookSecret(row.previous_secret, secretKey, row.id),
      });
      if (replaced) batch++;
    }
    // Nothing sealed in a whole batch: something keeps writing plaintext (an older version still
    // running); stop rather than spin, and the next start seals the rest.
    if (batch === 0) return sealed;
    sealed += batch;
  }
}

/**
 * Seals the stored answers (idempotency_keys) that show a secret in plaintext, written before
 * those answers were sealed; they would otherwise keep the secret for the rest of their 24 h.
 * Each row is replaced only if it still holds what was read.
 */
async function sealStoredSecretAnswers(db: Db, secretKey: Buffer): Promise<void> {
  for (;;) {
    const rows = await plaintextSecretAnswers(db, 500);
    let batch = 0;
    for (const row of rows) {
      const scope = { merchantId: row.merchant_id, livemode: row.livemode, key: row.key };
      if (await replaceIdempotentResponse(db, row, sealStoredResponse(row.response_body, secretKey, scope))) batch++;
    }
    // As above: stop rather than spin when something keeps writing them.
    if (batch === 0) return;
  }
}
