import { csvLine, csvRows } from '../../src/api/csv';

describe('api/csv.ts', () => {
  it('quotes what must be quoted, leaves numbers and empty values plain, and keeps formulas from running', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', null, undefined, 12, true])).toBe('a,"b,c","say ""hi""","two\nlines",,,12,true\r\n');
    expect(csvLine(['=HYPERLINK("x")', '+1+1', '@SUM(A1)', '-2', '-0.5', '-x'])).toBe(`"'=HYPERLINK(""x"")",'+1+1,'@SUM(A1),-2,-0.5,'-x\r\n`);
  });

  it('pages through a source after the last id seen, until a short page', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => ({ id: `row_${i}` }));
    const asked: Array<string | undefined> = [];
    const page = async (after: string | undefined) => {
      asked.push(after);
      const start = after === undefined ? 0 : ids.findIndex((row) => row.id === after) + 1;
      return ids.slice(start, start + 2);
    };
    let text = '';
    for await (const chunk of csvRows(['id'], page, 2, (row) => [row.id])) text += chunk;
    expect(text).toBe('id\r\nrow_0\r\nrow_1\r\nrow_2\r\nrow_3\r\nrow_4\r\n');
    expect(asked).toEqual([undefined, 'row_1', 'row_3']);
  });
});
