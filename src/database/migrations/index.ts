import { InitialSchema1795812407420 } from './1795812407420-InitialSchema';
import { ItemQueries1795820336807 } from './1795820336807-ItemQueries';

/** Every migration, oldest first. A new migration is added here as well as in this folder. */
export const MIGRATIONS = [InitialSchema1795812407420, ItemQueries1795820336807];
