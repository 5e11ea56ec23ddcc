/** The dashboard's one table: every list of rows is drawn by it, so they look and scroll alike. */
import { attributes, html, type Interpolation, type SafeHtml } from '../html';

export interface Column<Row> {
  header: string;
  cell: (row: Row) => Interpolation;
  /** A less important column: hidden on small screens (375 px), header and cells alike. */
  hideNarrow?: boolean;
  /** The cells' attributes (`data-field="status"`…), by which the page's script and the tests find them. */
  cellAttributes?: SafeHtml;
}

export interface TableOptions<Row> {
  /** Each row's <tr> attributes, naming its object (`data-deposit-id="…"`). */
  rowAttributes: (row: Row) => SafeHtml;
  /** Said instead of an empty table; without it an empty table is drawn (its page says why). */
  empty?: string;
  /** A caption for screen readers only. */
  caption?: string;
}

const narrow = (column: { hideNarrow?: boolean }) => column.hideNarrow && html`class="hide-narrow"`;

/** A table that scrolls sideways in its `.table-wrap` on small screens. */
export function table<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, options: TableOptions<Row>): SafeHtml {
  if (!rows.length && options.empty !== undefined) return html`<p>${options.empty}</p>`;
  return html`<div class="table-wrap">
    <table>
      ${
        options.caption
          ? html`<caption class="skip">
              ${options.caption}
            </caption>`
          : ''
      }
      <thead>
        <tr>
          ${columns.map((column) => html`<th${attributes(html`scope="col"`, narrow(column))}>${column.header}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr ${options.rowAttributes(row)}>
              ${columns.map((column) => html`<td${attributes(column.cellAttributes, narrow(column))}>${column.cell(row)}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The first cell of most tables: the object's id, linking to its page. */
export const idLink = (href: string, id: string) => html`<a href="${href}"><code>${id}</code></a>`;
