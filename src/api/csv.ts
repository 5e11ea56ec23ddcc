/**
 * CSV as spreadsheets and accounting tools read it (RFC 4180): a header row, then one line per
 * object, CRLF line ends, a field quoted when it holds a comma, a quote or a line break. A text
 * field that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or CR first) is
 * prefixed with `'`, so an export opened in Excel never computes what a payer wrote.
 */
export type CsvValue = string | number | boolean | null | undefined;

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Every row of a keyset-paged source as CSV text, page by page, so an export of any size is
 * streamed in constant memory: `page(after)` answers the rows after the last one seen (none: the
 * first page), `pageSize` at most.
 */
export async function* csvRows<Row extends { id: string }>(
  header: readonly string[],
  page: (after: string | undefined) => Promise<Row[]>,
  pageSize: number,
  line: (row: Row) => readonly CsvValue[],
): AsyncGenerator<string> {
  yield csvLine(header);
  let after: string | undefined;
  for (;;) {
    const rows = await page(after);
    if (rows.length > 0) yield rows.map((row) => csvLine(line(row))).join('');
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.id;
  }
}
