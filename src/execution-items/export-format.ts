import { Transform, type Readable } from 'node:stream';
import type { ExportFormat } from './vocabulary';

/** An export ready to send: the encoded items as a stream, with its content type and file name. */
export interface ItemsExport {
  fileName: string;
  contentType: string;
  stream: Readable;
}

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** An exported item: the list fields, its sequence and its error message. */
export interface ExportedItem {
  sequence: number;
  id: string;
  externalIdValue: string | null;
  displayName: string | null;
  connectedSystemObjectType: string | null;
  objectChangeType: string;
  errorType: string | null;
  outcomeSummary: string | null;
  errorMessage: string | null;
}

/** The columns, in order: the CSV header row and the NDJSON keys. */
export const EXPORT_COLUMNS = [
  'sequence',
  'id',
  'externalIdValue',
  'displayName',
  'connectedSystemObjectType',
  'objectChangeType',
  'errorType',
  'outcomeSummary',
  'errorMessage',
] as const satisfies ReadonlyArray<keyof ExportedItem>;

/** Items in, text out: a CSV header then rows, or one JSON object per line. */
export function createExportEncoder(format: ExportFormat): Transform {
  const encodeRow = format === 'csv' ? csvRow : (item: ExportedItem) => `${JSON.stringify(item)}\n`;
  return new Transform({
    writableObjectMode: true,
    construct(callback) {
      if (format === 'csv') this.push(`${EXPORT_COLUMNS.join(',')}\r\n`);
      callback();
    },
    transform(item: ExportedItem, _encoding, callback) {
      callback(null, encodeRow(item));
    },
  });
}

/** One RFC 4180 record, CRLF-terminated. */
export function csvRow(item: ExportedItem): string {
  return `${EXPORT_COLUMNS.map((column) => csvField(item[column])).join(',')}\r\n`;
}

/**
 * A field: empty for null; quoted when it holds a comma, quote, CR or LF, with quotes doubled.
 * Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
 * leading `'`, as OWASP advises against CSV injection.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `<connected system>-<run profile>-<id>.<format>`, reduced to characters safe in any file system. */
export function exportFileName(
  activity: { id: string; targetContext: string | null; targetName: string | null },
  format: ExportFormat,
): string {
  const slug = (text: string | null) =>
    (text ?? '')
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 60);
  const parts = [slug(activity.targetContext), slug(activity.targetName), activity.id].filter(Boolean);
  return `${parts.join('-')}.${format}`;
}
