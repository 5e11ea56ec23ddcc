/** How the dashboard answers: an HTML page, a redirect after a form, a refusal. */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Context } from 'koa';
import type { SafeHtml } from './html';
import { html } from './html';
import { alert, bare } from './layout';

export const DASHBOARD_PREFIX = '/dashboard';

export function send(ctx: Context, body: SafeHtml, statusCode = 200): void {
  ctx.status = statusCode;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body.value;
}

/** A file the API exported (a list's CSV), passed on as it streams in: a download named `filename`, not a page. */
export function sendCsv(ctx: Context, filename: string, body: ReadableStream<Uint8Array>): void {
  ctx.status = 200;
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
  ctx.body = Readable.fromWeb(body as NodeReadableStream<Uint8Array>);
}

export function redirect(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.set('Location', location);
  ctx.body = '';
}

/** A request the dashboard will not act on (403), or a form it cannot read (413): nothing was changed. */
export function refused(ctx: Context, message: string, statusCode = 403): void {
  send(
    ctx,
    bare(
      'Refused',
      html`<h1>Request refused</h1>
        ${alert(message)}
        <p><a href="/dashboard">Back to the dashboard</a></p>`,
    ),
    statusCode,
  );
}

/** Where "back" goes after a refused form: the page it came from (same origin), else the overview. */
export function backTo(ctx: Context, expected: string | undefined): string {
  if (ctx.method !== 'POST') return ctx.path;
  try {
    const referer = new URL(ctx.get('Referer'));
    if (referer.origin === expected && referer.pathname.startsWith(`${DASHBOARD_PREFIX}`)) return referer.pathname + referer.search;
  } catch {
    // No usable Referer.
  }
  return DASHBOARD_PREFIX;
}
