/** The "Download CSV" link of a list page: the API's export of the filters shown, every matching row (not the page's). */
import { html, type SafeHtml } from '../html';
import { filterQuery } from './pagination';

export function downloadLink(path: string, filters: Record<string, string | undefined>): SafeHtml {
  const query = filterQuery(filters).toString();
  return html`<p><a href="${path}${query ? `?${query}` : ''}" download data-download-csv>Download CSV</a> (every row these filters match)</p>`;
}
