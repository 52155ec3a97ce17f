import { describe, expect, it } from 'vitest';
import { CSV_MAX_ROWS, csvCell, csvReply, plainNumber, toCsv } from '../../../functions/analytics/csv.js';
import { parseRfc4180 } from '../../support/csv.js';

describe('CSV export format', () => {
  it('writes a header row and CRLF records that round-trip through an RFC 4180 reader', () => {
    const rows = [
      { name: 'Acme, Inc.', note: 'says "hello"', multi: 'line one\nline two', n: 1.5 },
      { name: 'plain', note: '', multi: 'cr\r\nlf', n: -2 },
    ];
    const { text, rows: count, truncated } = toCsv(['name', 'note', 'multi', 'n'], rows);
    expect(count).toBe(2);
    expect(truncated).toBe(false);
    expect(text.startsWith('name,note,multi,n\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain('"Acme, Inc."');
    expect(text).toContain('"says ""hello"""');
    expect(parseRfc4180(text)).toEqual([
      ['name', 'note', 'multi', 'n'],
      ['Acme, Inc.', 'says "hello"', 'line one\nline two', '1.5'],
      ['plain', '', 'cr\r\nlf', '-2'],
    ]);
  });

  it('writes plain decimal numbers (no exponent), ISO dates, booleans, and empty cells for null', () => {
    expect(plainNumber(1e-7)).toBe('0.0000001');
    expect(plainNumber(0.1 + 0.2)).toBe('0.3');
    expect(plainNumber(123456789)).toBe('123456789');
    expect(plainNumber(-0)).toBe('0');
    expect(plainNumber(-0.000000001)).toBe('0');
    expect(plainNumber(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(new Date('2025-01-15T12:00:00Z'))).toBe('2025-01-15T12:00:00.000Z');
    expect(csvCell('2025-01-15T12:00:00.000Z')).toBe('2025-01-15T12:00:00.000Z');
  });

  it('neutralises text that a spreadsheet would evaluate as a formula, but never numbers', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(-1.25)).toBe('-1.25');
    // After leading whitespace or a line break (spreadsheets trim those before evaluating).
    for (const text of ['  =1+1', '\n=cmd|x', '\r\n+1', ' \t@SUM(A1)', '\u00a0-2', '\ufeff=1', '\tplain', '\nplain']) {
      expect(csvCell(text), JSON.stringify(text)).toBe(`'${text}`);
    }
    expect(csvCell(' plain = 1')).toBe(' plain = 1');
    const [, row] = parseRfc4180(toCsv(['a'], [{ a: '=1+1' }]).text);
    expect(row).toEqual(["'=1+1"]);
  });

  it(`caps an export at ${CSV_MAX_ROWS} rows and says so`, () => {
    const rows = Array.from({ length: CSV_MAX_ROWS + 5 }, (_, i) => ({ i }));
    const out = toCsv(['i'], rows);
    expect(out.rows).toBe(CSV_MAX_ROWS);
    expect(out.truncated).toBe(true);
    expect(parseRfc4180(out.text)).toHaveLength(CSV_MAX_ROWS + 1);
  });

  it('replies as a text/csv attachment with a safe file name', () => {
    const r = csvReply('savings-a/b "x".csv', ['a'], [{ a: 1 }]);
    expect(r.status).toBe(200);
    expect(r.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers?.['content-disposition']).toBe('attachment; filename="savings-a_b__x_.csv"');
    expect(r.headers?.['x-row-count']).toBe('1');
    expect(r.body).toBe('a\r\n1\r\n');
  });
});
