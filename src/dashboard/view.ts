/**
 * What a signed-in page is: routes that build a title and a body from the API, rendered in the
 * dashboard's layout. The API's refusals (403, 400, 404…) become the page's alert with the API's
 * status, never a 500, so a read-only key can use every page.
 */
import type { Context, Middleware } from 'koa';
import { InflowError, type Inflow } from '../../sdk/src';
import type { Form } from './forms';
import { html, type SafeHtml } from './html';
import { alert, page, type Chrome, type Section } from './layout';
import { backTo, send } from './responses';
import type { Db } from '../db/database';
import type { DashboardSession } from './sessions';

/** What the sign-in gate (sign-in.ts) hands every signed-in request. */
export interface DashboardState {
  session: DashboardSession;
  /** The SDK with the session's key for its mode, over loopback. */
  inflow: Inflow;
  chrome: Chrome;
  /** The POST's form, its CSRF token checked; empty on a GET. */
  form: Form;
  /** DashboardDeps' clock (tests fix it). */
  clock: () => Date;
  /** The session table's database and seal (a roll of the session's own key reseals it: api-keys.page.ts). */
  db: Db;
  secretKey: Buffer;
}

export const dashboardState = (ctx: Context) => ctx.state.dashboard as DashboardState;

/** A page's answer; none when the route answered itself (a redirect after a form). */
export type Rendered = { title: string; body: SafeHtml } | void;

export interface PageRoute {
  method: 'get' | 'post';
  path: string;
  build: (ctx: Context, state: DashboardState) => Promise<Rendered>;
}

/** One section of the navigation and every route under it. */
export interface DashboardPage {
  section: Section;
  routes: PageRoute[];
}

/** Renders a page route; `origin` is where "back" may point after a refused form. */
export function view(section: Section, build: PageRoute['build'], origin: (ctx: Context) => string | undefined): Middleware {
  return async (ctx) => {
    const state = dashboardState(ctx);
    const chrome = { ...state.chrome, section };
    try {
      const result = await build(ctx, state);
      if (result) send(ctx, page(result.title, chrome, result.body));
    } catch (error) {
      if (!(error instanceof InflowError)) throw error;
      const code = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 502;
      send(
        ctx,
        page(
          'Something was refused',
          chrome,
          html`${alert(`${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}`)}
            <p><a href="${backTo(ctx, origin(ctx))}">${ctx.method === 'POST' ? 'Back to the form' : 'Try again'}</a> · <a href="/dashboard">Overview</a></p>`,
        ),
        code,
      );
    }
  };
}
