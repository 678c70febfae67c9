import type { OltpStatus } from '../../lib/oltp/status.ts';
import { oltpStatusOnce } from '../../lib/composition.ts';

/** The OLTP status from inside the database's VPC, for the console (which is not in it). Invoked synchronously. */
export const handler = async (event: { latest?: number } | null): Promise<OltpStatus> =>
  oltpStatusOnce({ latest: event?.latest ?? 0 });
