/**
 * Dashboard sessions: the one table src/dashboard reads directly. The browser holds a random
 * token in an HttpOnly cookie; the row's id is its SHA-256, and each mode's API key is sealed
 * with INFLOW_SECRET_KEY (AES-256-GCM, the row id and mode as associated data).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/database';
import type { DashboardSessionRow } from './dashboard-sessions.table';
import type { Mode } from '../domain/mode';
import { sealApiKey, unsealApiKey } from '../merchants/sealed-keys';

/** The cookie names an origin's browsers get, and whether they carry Secure. */
export interface SessionCookies {
  session: string;
  /** The sign-in form's double-submitted CSRF token. */
  login: string;
  secure: boolean;
}

/**
 * On every https origin (INFLOW_PUBLIC_URL, a trusted proxy's X-Forwarded-Proto, or TLS on the
 * connection): `__Host-`, which the browser takes only from a secure origin, with Secure, Path=/
 * and no Domain, so a sibling subdomain or a plain-http answer on the way cannot plant or shadow it.
 */
export const SECURE_COOKIES: SessionCookies = { session: '__Host-inflow_dashboard', login: '__Host-inflow_dashboard_login', secure: true };
/**
 * On a plain-http loopback origin only (development: `npm run dev` at http://localhost): Safari
 * keeps no Secure cookie from http://localhost, so there the cookie is host-only (no Domain),
 * Path=/, HttpOnly and SameSite=Strict without Secure or the prefix. Nothing crosses a network
 * there, and cookies of localhost are every local port's anyway (docs/dashboard.md).
 */
export const DEVELOPMENT_COOKIES: SessionCookies = { session: 'inflow_dashboard', login: 'inflow_dashboard_login', secure: false };

/**
 * The cookies of the origin the dashboard is seen at (origin.ts' expectedOrigin). Only
 * these are read: on an https origin a planted unprefixed cookie is ignored. Plain http to any
 * other host gets the secure cookies too, which browsers drop; the sign-in page says why.
 */
export function sessionCookiesFor(origin: string | undefined): SessionCookies {
  return origin !== undefined && isPlainHttpLoopback(origin) ? DEVELOPMENT_COOKIES : SECURE_COOKIES;
}

/** http://localhost, http://*.localhost, http://127.x.x.x or http://[::1], any port. */
export function isPlainHttpLoopback(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
}

/** The name earlier versions used at Path=/dashboard; sign-in clears it so it cannot linger beside the new one. */
export const LEGACY_SESSION_COOKIE = 'inflow_dashboard';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** The merchant a session is bound to: recorded at sign-in from GET /api/v1/account. */
export interface SessionMerchant {
  id: string;
  name: string;
}

export interface DashboardSession {
  id: string;
  csrfToken: string;
  mode: Mode;
  /** Every key the session holds is this merchant's: a key of another is refused (sign-in.ts). */
  merchant: SessionMerchant;
  /** The API key of each mode the session signed in to. */
  keys: Partial<Record<Mode, string>>;
  expiresAt: Date;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const sealLabel = (id: string, mode: Mode) => `dashboard_session:${id}:${mode}`;

/**
 * A new session holding `keys` (at least the `mode` one), all of them `merchant`'s (the caller
 * checked: GET /api/v1/account); returns the cookie's token (only here) and the session. Every sign-in makes one: a session the browser brought is never extended, so a
 * planted cookie cannot end up holding the key that was just entered.
 */
export async function createSession(
  db: Db,
  secretKey: Buffer,
  keys: Partial<Record<Mode, string>>,
  mode: Mode,
  merchant: SessionMerchant,
  now: Date,
): Promise<{ token: string; session: DashboardSession }> {
  const token = randomBytes(32).toString('base64url');
  const id = hashToken(token);
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  // Expired sessions of anyone go as a new one starts: the table stays small without a timer.
  await db.deleteFrom('dashboard_sessions').where('expires_at', '<=', now).execute();
  await db
    .insertInto('dashboard_sessions')
    .values({
      id,
      csrf_token: csrfToken,
      mode,
      test_key_sealed: keys.test ? sealApiKey(keys.test, secretKey, sealLabel(id, 'test')) : null,
      live_key_sealed: keys.live ? sealApiKey(keys.live, secretKey, sealLabel(id, 'live')) : null,
      merchant_id: merchant.id,
      merchant_name: merchant.name,
      created_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { token, session: { id, csrfToken, mode, merchant, keys, expiresAt } };
}

function toSession(row: DashboardSessionRow, secretKey: Buffer): DashboardSession {
  const keys: Partial<Record<Mode, string>> = {};
  if (row.test_key_sealed) keys.test = unsealApiKey(row.test_key_sealed, secretKey, sealLabel(row.id, 'test'));
  if (row.live_key_sealed) keys.live = unsealApiKey(row.live_key_sealed, secretKey, sealLabel(row.id, 'live'));
  return { id: row.id, csrfToken: row.csrf_token, mode: row.mode, merchant: { id: row.merchant_id, name: row.merchant_name }, keys, expiresAt: row.expires_at };
}

/** The unexpired session whose token this is, or undefined. */
export async function findSession(db: Db, secretKey: Buffer, token: string | undefined, now: Date): Promise<DashboardSession | undefined> {
  if (!token || token.length > 200) return undefined;
  const row = await db.selectFrom('dashboard_sessions').selectAll().where('id', '=', hashToken(token)).where('expires_at', '>', now).executeTakeFirst();
  if (!row) return undefined;
  try {
    return toSession(row, secretKey);
  } catch {
    return undefined;
  }
}

export async function switchSessionMode(db: Db, session: DashboardSession, mode: Mode): Promise<void> {
  await db.updateTable('dashboard_sessions').set({ mode }).where('id', '=', session.id).execute();
}

/** The session's key of `mode` replaced (its own key was rolled from the API keys page); the merchant stays. */
export async function replaceSessionKey(db: Db, secretKey: Buffer, session: DashboardSession, mode: Mode, key: string): Promise<void> {
  const sealed = sealApiKey(key, secretKey, sealLabel(session.id, mode));
  await db
    .updateTable('dashboard_sessions')
    .set(mode === 'test' ? { test_key_sealed: sealed } : { live_key_sealed: sealed })
    .where('id', '=', session.id)
    .execute();
}

export async function deleteSession(db: Db, id: string, now: Date): Promise<void> {
  // Expired rows of anyone go too: sign-outs keep the table small without a timer.
  await db
    .deleteFrom('dashboard_sessions')
    .where((eb) => eb.or([eb('id', '=', id), eb('expires_at', '<=', now)]))
    .execute();
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
