import { ExecutionItemsError } from './execution-items.error';

/** A GUID in its 8-4-4-4-12 form, any case; no braces. */
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Ids come from other modules as well as from validated HTTP input: the services check them too. */
export function assertGuid(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || !GUID_PATTERN.test(value)) {
    throw ExecutionItemsError.invalid({ [name]: ['must be a GUID'] });
  }
}
