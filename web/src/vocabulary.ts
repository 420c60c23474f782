/**
 * The contract's vocabularies the viewer offers as filters and sorts: the module's own lists
 * (a plain module without imports, bundled into the app), so the two cannot drift apart.
 */
export { ACTIVITY_STATUSES, RUN_TYPES, SORT_KEYS, type SortKey } from '../../src/execution-items/vocabulary';

/** `CompleteWithError` → `Complete with error`, `FullSynchronisation` → `Full synchronisation`. */
export function words(value: string): string {
  const spaced = value.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2');
  const sentence = spaced.charAt(0) + spaced.slice(1).toLowerCase();
  return sentence.replace(/\b(mvo|cso|id)\b/gi, (abbreviation) => abbreviation.toUpperCase());
}
