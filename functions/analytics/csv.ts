/**
 * CSV exports (API.md §1.2, §3.11): RFC 4180 through csv-stringify — a header row, CRLF record
 * separators, fields holding a comma, quote, CR or LF quoted with inner quotes doubled — and values
 * a spreadsheet reads as intended: ISO-8601 dates, plain decimal numbers (never `1e-7`), empty
 * cells for nulls. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` at the start,
 * also after spaces or a newline; a tab, CR or LF at the start) is prefixed with `'` (OWASP CSV injection guidance); numbers are never touched.
 */
import { stringify } from 'csv-stringify/sync';
import { reply } from '../shared/http/route.js';

/** API.md §1.2: CSV exports are capped at 50,000 rows. */
export const CSV_MAX_ROWS = 50_000;

/** A number in plain decimal notation, at most 8 decimals, no trailing zeros. */
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : String(n);
  const fixed = n.toFixed(8).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/**
 * A formula trigger (`= + - @`) at the start, also after leading whitespace or a line break
 * (spreadsheets trim those before evaluating), or a cell starting with tab, CR or LF.
 */
const FORMULA_START = /^(?:\s*[=+\-@]|[\t\r\n])/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return plainNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Renders rows under `columns` (header row first); returns the text and whether rows were cut. */
export function toCsv(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): { text: string; rows: number; truncated: boolean } {
  const kept = rows.slice(0, CSV_MAX_ROWS);
  const records = [columns.map(String), ...kept.map((r) => columns.map((c) => csvCell(r[c])))];
  const text = stringify(records, { record_delimiter: 'windows', quote_record_delimiter: true, eof: true });
  return { text, rows: kept.length, truncated: rows.length > CSV_MAX_ROWS };
}

/** A CSV download: text/csv, attachment with a file name, row count and truncation flag. */
export function csvReply(filename: string, columns: readonly string[], rows: readonly Record<string, unknown>[]) {
  const csv = toCsv(columns, rows);
  return reply(200, csv.text, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'x-row-count': String(csv.rows),
    'x-truncated': String(csv.truncated),
    'cache-control': 'no-store',
  });
}
