/** PostgreSQL COPY text format: tab-separated fields, `\N` for NULL, one row per line. */

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (char) => ESCAPES[char]) : value;
}

export function copyLine(fields: ReadonlyArray<string | number | null>): string {
  return `${fields.map(copyField).join('\t')}\n`;
}
