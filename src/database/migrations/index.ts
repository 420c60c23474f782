import { EXECUTION_ITEMS_MIGRATIONS, withoutStatementTimeout } from '../../execution-items';
import { ApiKeys1795821298159 } from './1795821298159-ApiKeys';

/**
 * Every migration of the standalone service, oldest first: the module's, then the app's own (API
 * keys). A new migration of the app is added here as well as in this folder.
 */
export const MIGRATIONS = [
  ...EXECUTION_ITEMS_MIGRATIONS,
  ...[ApiKeys1795821298159].map(withoutStatementTimeout),
];
