/** Cursor pagination of the list pages, as the API pages: `starting_after` the last id shown. */
import { html, type SafeHtml } from '../html';

/** A list page's cursor from its query. */
export function cursorOf(ctx: { query: Record<string, unknown> }): string | undefined {
  return typeof ctx.query.starting_after === 'string' && ctx.query.starting_after ? ctx.query.starting_after : undefined;
}

/** "Next page" after the last object shown, keeping the page's filters (those set); nothing on the last page. */
export function nextPage(
  path: string,
  list: { data: ReadonlyArray<{ id: string }>; has_more: boolean },
  filters: Record<string, string | undefined> = {},
): SafeHtml {
  const last = list.data.at(-1);
  if (!list.has_more || !last) return html``;
  const query = filterQuery(filters);
  query.set('starting_after', last.id);
  return html`<p><a href="${path}?${query.toString()}">Next page</a></p>`;
}

/** A list's filters as a query string's parameters, those set only. */
export function filterQuery(filters: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(Object.entries(filters).filter((entry): entry is [string, string] => !!entry[1]));
}
