/** The contract's vocabularies the viewer offers as filters (contract §2). */

export const ACTIVITY_STATUSES = [
  'InProgress',
  'Complete',
  'CompleteWithWarning',
  'CompleteWithError',
  'FailedWithError',
  'Cancelled',
] as const;

export const RUN_TYPES = [
  'FullImport',
  'DeltaImport',
  'FullSynchronisation',
  'DeltaSynchronisation',
  'Export',
] as const;

/** The list's sort keys; `sequence` is the order the run processed the objects. */
export const SORT_KEYS = ['sequence', 'displayName', 'externalIdValue', 'objectType', 'errorType'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** `CompleteWithError` → `Complete with error`, `FullSynchronisation` → `Full synchronisation`. */
export function words(value: string): string {
  const spaced = value.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2');
  const sentence = spaced.charAt(0) + spaced.slice(1).toLowerCase();
  return sentence.replace(/\b(mvo|cso|id)\b/gi, (abbreviation) => abbreviation.toUpperCase());
}
