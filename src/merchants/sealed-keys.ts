/**
 * API keys kept to sign order callbacks. CryptoPayments signs its callbacks with the merchant's
 * API key, so inflow must be able to read that key again; the database still never holds it in
 * plaintext. Each new key is sealed with AES-256-GCM under the server's INFLOW_SECRET_KEY (32
 * bytes, from the environment, never stored in the database), with the key's row id as associated
 * data, so a sealed value copied onto another row does not open. Whoever has the database alone
 * learns nothing; whoever also has the server key can sign as the merchant, as the server can.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** INFLOW_SECRET_KEY: 64 hex characters, or 32 bytes in base64. */
export function parseSecretKey(text: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES || (!/^[0-9a-f]{64}$/i.test(text) && key.toString('base64') !== text)) {
    throw new SecretKeyError('must be 32 random bytes, as 64 hex characters (e.g. from `openssl rand -hex 32`) or in base64');
  }
  return key;
}

export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

export function sealApiKey(apiKey: string, secretKey: Buffer, keyId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', secretKey, iv);
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const sealed = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join('.');
}

/** The key, or a SecretKeyError when the value was sealed under another server key or altered. */
export function unsealApiKey(sealed: string, secretKey: Buffer, keyId: string): string {
  const [version, ivText, tagText, data] = sealed.split('.');
  const iv = Buffer.from(ivText ?? '', 'base64');
  const tag = Buffer.from(tagText ?? '', 'base64');
  // A full 16-byte tag only: GCM would otherwise accept a truncated one.
  if (version !== VERSION || iv.length !== IV_BYTES || tag.length !== TAG_BYTES || !data)
    throw new SecretKeyError(`the sealed key of ${keyId} is not in a known format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', secretKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError(`the sealed key of ${keyId} does not open with INFLOW_SECRET_KEY (sealed under another server key?)`);
  }
}
