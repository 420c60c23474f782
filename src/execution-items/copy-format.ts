/**
 * PostgreSQL's COPY text format: columns separated by tabs, rows by newlines, `\N` for null, and
 * backslash, tab, newline and carriage return escaped with a backslash.
 */
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return value.replace(/[\\\t\n\r]/g, (character) => ESCAPES[character]);
}

export function copyRow(values: ReadonlyArray<string | number | null>): string {
  return `${values.map(copyField).join('\t')}\n`;
}
