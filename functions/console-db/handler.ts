import type { ConsoleDbAnswer } from '../../lib/console/database.ts';
import { consoleDbOnce } from '../../lib/composition.ts';

/**
 * The console's requests of the operational database, answered from inside its VPC (the console is not in it):
 * the OLTP status, the Imports page, decisions on held imports. Invoked synchronously; a refusal is the answer's
 * `error`, never a function error (lib/console/database.ts).
 */
export const handler = async (event: unknown): Promise<ConsoleDbAnswer> => consoleDbOnce(event);
