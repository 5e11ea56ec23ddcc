/**
 * Sign-in, sign-out and the mode switch, and the gate in front of every other page: a session
 * whose key is never sent to the browser, and on every POST a same-origin request carrying the
 * session's CSRF token (docs/dashboard.md, Security model).
 */
import type Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { randomBytes } from 'node:crypto';
import { AuthenticationError, Inflow, InflowError } from '../../sdk/src';
import type { Db } from '../db/database';
import { modeOfKey } from '../domain/api-keys';
import type { Mode } from '../domain/mode';
import { noForm, readForm, type Form } from './forms';
import { html } from './html';
import { alert, bare, csrfField } from './layout';
import { expectedOrigin, sameOrigin, type OriginSettings } from '../api/public-origin';
import { DASHBOARD_PREFIX, redirect, refused, send } from './responses';
import {
  createSession,
  deleteSession,
  findSession,
  LEGACY_SESSION_COOKIE,
  sameSecret,
  sessionCookiesFor,
  SESSION_TTL_MS,
  switchSessionMode,
  type DashboardSession,
  type SessionMerchant,
} from './sessions';
import { dashboardState, type DashboardState } from './view';

export interface SignInSettings extends OriginSettings {
  db: Db;
  /** INFLOW_SECRET_KEY: seals the keys sessions hold. */
  secretKey: Buffer;
  clock: () => Date;
  /** Runs before the sign-in form's handler: the per-address limit on refused keys (rate-limit.ts). */
  signInLimit?: Middleware | undefined;
}

const NOT_FROM_HERE = 'This form must be sent from the dashboard itself.';
const CSRF_MISMATCH = 'The form expired or did not come from this dashboard. Reload the page and try again.';

/**
 * Every cookie of the dashboard: Path=/ and no Domain (host-only), HttpOnly, SameSite=Strict; and
 * Secure, which `__Host-` requires, unless it is the development cookie of a plain-http loopback
 * origin (sessions.ts: Safari keeps no Secure cookie from http://localhost).
 */
function cookieFlags(maxAgeSeconds: number, secure: boolean): string {
  return `Path=/;${secure ? ' Secure;' : ''} HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

/** The cookie's value; undefined when absent or sent twice (one of the two was planted, and which is unknowable). */
function readCookie(ctx: Context, name: string): string | undefined {
  const values: string[] = [];
  for (const part of (ctx.get('Cookie') || '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) values.push(rest.join('='));
  }
  return values.length === 1 ? values[0] : undefined;
}

/** The SDK over loopback: the dashboard is a client of the API it is served beside. */
function apiClient(ctx: Context, key: string): Inflow {
  return new Inflow(key, { baseUrl: `http://127.0.0.1:${ctx.req.socket.localPort}`, maxRetries: 0, timeoutMs: 15_000 });
}

interface LoginPageOptions {
  token: string;
  message?: string | undefined;
  mode?: Mode | undefined;
  /** Signed in already: the form adds a key of this merchant (POST /dashboard/mode/key). */
  merchant?: SessionMerchant | undefined;
  statusCode?: number;
}

function loginPage(ctx: Context, options: LoginPageOptions): void {
  const heading = options.mode ? `Sign in to ${options.mode} mode` : 'Sign in to inflow';
  const { merchant } = options;
  send(
    ctx,
    bare(
      heading,
      html`<div class="login card">
        <h1>${heading}</h1>
        ${alert(options.message)}
        ${merchant ? html`<p data-session-merchant="${merchant.id}">This session is ${merchant.name}'s (<code>${merchant.id}</code>): the key must be theirs too.</p>` : ''}
        <form id="login" class="stack" method="post" action="${merchant ? '/dashboard/mode/key' : '/dashboard/login'}">
          ${csrfField(options.token)}
          <label for="key"
            >Secret API key
            <input
              id="key"
              name="key"
              type="password"
              autocomplete="off"
              required
              spellcheck="false"
              placeholder="${options.mode === 'live' ? 'sk_live_…' : options.mode === 'test' ? 'sk_test_…' : 'sk_test_… or sk_live_…'}"
            />
          </label>
          <button type="submit">Sign in</button>
        </form>
        <p>The key stays on the server, sealed in your session; it is never put in a page or a URL.</p>
      </div>`,
    ),
    options.statusCode ?? 200,
  );
}

/** A key's account (GET /api/v1/account, which any key may call), or why the key cannot be used. */
async function accountOf(ctx: Context, key: string): Promise<SessionMerchant | { refusal: string; statusCode: number }> {
  if (!modeOfKey(key))
    return { refusal: 'That is not a secret API key: it starts with sk_test_ or sk_live_ and has 43 characters after that.', statusCode: 401 };
  try {
    const account = await apiClient(ctx, key).account.retrieve();
    return { id: account.id, name: account.name };
  } catch (error) {
    if (error instanceof AuthenticationError) return { refusal: 'The key was refused: it is unknown, deleted or expired.', statusCode: 401 };
    if (error instanceof InflowError && error.statusCode !== undefined)
      return { refusal: `The API could not check the key: ${error.message}`, statusCode: 502 };
    return { refusal: 'The API could not be reached to check the key.', statusCode: 502 };
  }
}

/** The refusal of a key of another merchant than the session's (the mode switch). */
export const otherMerchant = (key: SessionMerchant, session: SessionMerchant) =>
  `This key belongs to merchant ${key.name} (${key.id}); this session is merchant ${session.name}'s (${session.id}). Sign out first to use another merchant's dashboard.`;

/** Mounts /login, /logout, /mode and /mode/key on `router`; returns the gate every other page sits behind. */
export function mountSignIn(router: Router, settings: SignInSettings): Middleware {
  const { db, secretKey, clock } = settings;
  const limit = settings.signInLimit ?? ((_ctx: Context, next: Next) => next());

  const origin = (ctx: Context) => expectedOrigin(ctx, settings);
  /** The cookie names and flags this request's origin gets; only those names are read. */
  const cookies = (ctx: Context) => sessionCookiesFor(origin(ctx));
  const setCookie = (ctx: Context, name: string, value: string, maxAgeSeconds: number) =>
    ctx.append('Set-Cookie', `${name}=${value}; ${cookieFlags(maxAgeSeconds, cookies(ctx).secure)}`);
  const currentSession = (ctx: Context) => findSession(db, secretKey, readCookie(ctx, cookies(ctx).session), clock());

  /** Login CSRF before any session: a random token in the form and in a cookie for an hour, which must match. */
  const loginToken = (ctx: Context) => {
    const token = randomBytes(24).toString('base64url');
    setCookie(ctx, cookies(ctx).login, token, 3600);
    return token;
  };
  /** Plain http to a host other than loopback: browsers drop the Secure cookie, so say so rather than loop back to this form. */
  const insecureOrigin = (ctx: Context) => {
    const seen = origin(ctx);
    return seen?.startsWith('http:') && cookies(ctx).secure
      ? `This dashboard is open over plain http (${seen}): browsers keep its session cookie only over https. Serve it over https (INFLOW_PUBLIC_URL, or a proxy in INFLOW_TRUSTED_PROXIES: docs/dashboard.md), or open it at http://localhost for development.`
      : undefined;
  };

  /**
   * A fresh session on every sign-in, and the one the browser brought (`previous`) is dropped: its
   * cookie may have been planted, and extending it would hand the key just entered to whoever
   * planted it. Every key it holds is `merchant`'s.
   */
  const startSession = async (ctx: Context, keys: Partial<Record<Mode, string>>, mode: Mode, merchant: SessionMerchant, previous?: DashboardSession) => {
    if (previous) await deleteSession(db, previous.id, clock());
    const created = await createSession(db, secretKey, keys, mode, merchant, clock());
    setCookie(ctx, cookies(ctx).session, created.token, SESSION_TTL_MS / 1000);
    setCookie(ctx, cookies(ctx).login, '', 0);
    // The unprefixed cookie of earlier versions (Path=/dashboard) would otherwise linger beside it
    // (beside the development cookie of the same name, it would make the session's cookie sent twice).
    ctx.append('Set-Cookie', `${LEGACY_SESSION_COOKIE}=; Path=${DASHBOARD_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=0`);
    redirect(ctx, '/dashboard');
  };

  router.get('/login', async (ctx) => {
    const wanted = ctx.query.mode === 'live' || ctx.query.mode === 'test' ? ctx.query.mode : undefined;
    const session = await currentSession(ctx);
    if (session && !wanted) return redirect(ctx, '/dashboard');
    // Signed in already and asking for another mode's key: the session's CSRF token protects it,
    // and the form adds the key to this merchant's session (POST /mode/key) or refuses it.
    const warning = insecureOrigin(ctx);
    loginPage(ctx, { token: session ? session.csrfToken : loginToken(ctx), mode: wanted, message: warning, merchant: session?.merchant });
  });

  // On the route itself, so every spelling the router matches (a trailing slash, any case) is limited.
  router.post('/login', limit, async (ctx) => {
    if (!sameOrigin(ctx, origin(ctx))) return refused(ctx, NOT_FROM_HERE);
    const form = await readForm(ctx);
    const session = await currentSession(ctx);
    const expected = session ? session.csrfToken : readCookie(ctx, cookies(ctx).login);
    if (!expected || !sameSecret(form.get('csrf'), expected)) return refused(ctx, CSRF_MISMATCH);
    const key = (form.get('key') ?? '').trim();
    const account = await accountOf(ctx, key);
    if ('refusal' in account)
      return loginPage(ctx, { token: session ? session.csrfToken : loginToken(ctx), message: account.refusal, statusCode: account.statusCode });
    const mode = modeOfKey(key) as Mode;
    const keys: Partial<Record<Mode, string>> = { [mode]: key };
    const other: Mode = mode === 'test' ? 'live' : 'test';
    // The other mode's key comes along only when the session is this merchant's: a planted session
    // cannot mix another merchant's account into this one (it is dropped, and a new one starts).
    const otherKey = session?.keys[other];
    if (otherKey && session?.merchant.id === account.id) keys[other] = otherKey;
    await startSession(ctx, keys, mode, account, session);
  });

  // Everything else needs a session; a POST also needs its CSRF token and a same-origin request.
  const signedIn: Middleware = async (ctx: Context, next: Next) => {
    const session = await currentSession(ctx);
    if (!session) return redirect(ctx, '/dashboard/login');
    let form: Form = noForm;
    if (ctx.method === 'POST') {
      if (!sameOrigin(ctx, origin(ctx))) return refused(ctx, NOT_FROM_HERE);
      form = await readForm(ctx);
      if (!sameSecret(form.get('csrf'), session.csrfToken)) return refused(ctx, CSRF_MISMATCH);
    }
    const key = session.keys[session.mode];
    if (!key) return redirect(ctx, `/dashboard/login?mode=${session.mode}`);
    const modes = (['test', 'live'] as const).filter((mode) => session.keys[mode]);
    const state: DashboardState = {
      session,
      inflow: apiClient(ctx, key),
      chrome: { mode: session.mode, csrfToken: session.csrfToken, modes, merchant: session.merchant },
      form,
      clock,
      db,
      secretKey,
    };
    ctx.state.dashboard = state;
    return next();
  };

  router.post('/logout', signedIn, async (ctx) => {
    await deleteSession(db, dashboardState(ctx).session.id, clock());
    setCookie(ctx, cookies(ctx).session, '', 0);
    redirect(ctx, '/dashboard/login');
  });

  router.post('/mode', signedIn, async (ctx) => {
    const { session, form } = dashboardState(ctx);
    const mode = form.get('mode');
    if (mode !== 'test' && mode !== 'live') return refused(ctx, 'Unknown mode.');
    if (!session.keys[mode]) return redirect(ctx, `/dashboard/login?mode=${mode}`);
    await switchSessionMode(db, session, mode);
    redirect(ctx, '/dashboard');
  });

  // The mode switch's sign-in (GET /login?mode=… when signed in): the key is added to this
  // session only when it is the same merchant's; another merchant's is refused, nothing changed.
  router.post('/mode/key', limit, signedIn, async (ctx) => {
    const { session, form } = dashboardState(ctx);
    const key = (form.get('key') ?? '').trim();
    const mode = modeOfKey(key);
    const account = await accountOf(ctx, key);
    const again = (message: string, statusCode: number) =>
      loginPage(ctx, { token: session.csrfToken, message, mode: mode ?? undefined, merchant: session.merchant, statusCode });
    if ('refusal' in account) return again(account.refusal, account.statusCode);
    if (account.id !== session.merchant.id) return again(otherMerchant(account, session.merchant), 403);
    await startSession(ctx, { ...session.keys, [mode as Mode]: key }, mode as Mode, account, session);
  });

  return signedIn;
}
