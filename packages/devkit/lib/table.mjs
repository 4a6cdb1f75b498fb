// Plain-text tables for terminals and CI logs: the test summary and every
// benchmark print through here so they look alike.

/**
 * @typedef {object} Column
 * @property {string} key            property of each row
 * @property {string} [title]        header text (default: key)
 * @property {'left' | 'right'} [align]  default: right when every value is a number
 * @property {(value: unknown, row: Record<string, unknown>) => string} [format]
 */

/**
 * Lays rows out in aligned columns under a header and a rule.
 * Missing values print as empty cells; non-integer numbers keep three
 * significant digits (integer part always whole).
 * @param {Array<Record<string, unknown>>} rows
 * @param {Array<string | Column>} columns
 * @returns {string} the table, lines joined by "\n", no trailing newline
 */
export function formatTable(rows, columns) {
  const cols = columns.map((c) => (typeof c === 'string' ? { key: c } : c));
  const titles = cols.map((c) => c.title ?? c.key);
  const cells = rows.map((row) => cols.map((c) => cellText(row[c.key], row, c)));
  const widths = cols.map((_, i) => Math.max(titles[i]?.length ?? 0, ...cells.map((r) => r[i]?.length ?? 0)));
  const right = cols.map((c) => {
    if (c.align) return c.align === 'right';
    const values = rows.map((r) => r[c.key]).filter((v) => v !== undefined && v !== null);
    return values.length > 0 && values.every((v) => typeof v === 'number');
  });
  /** @param {string[]} texts */
  const line = (texts) =>
    texts.map((t, i) => (right[i] ? t.padStart(widths[i] ?? 0) : t.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(titles), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * @param {unknown} value
 * @param {Record<string, unknown>} row
 * @param {Column} column
 */
function cellText(value, row, column) {
  if (column.format) return column.format(value, row);
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return formatNumber(value);
  return String(value);
}

/**
 * Three significant digits, but never rounds away the integer part.
 * @param {number} n
 */
export function formatNumber(n) {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  return String(Number(n.toPrecision(3)));
}
