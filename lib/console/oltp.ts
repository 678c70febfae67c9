import { maskValue } from '../masking.ts';
import { errorMessage } from '../errors.ts';
import type { IntRange } from '../http/params.ts';
import type { OltpStatus } from '../oltp/status.ts';
import type { QuarantineCounts } from '../quarantine/quarantine-index.ts';

/** The quarantine stage of events the OLTP database refused. */
export const OLTP_SINK_STAGE = 'oltp-sink';

/** How many of the newest transactions the OLTP page lists: `?latest=` (a whole number), held to 0…100. */
export const OLTP_LATEST: IntRange = { fallback: 20, min: 0, max: 100 };

/** What `GET /api/oltp` answers: the database's status plus the sink's open quarantine backlog. */
export interface OltpOverview extends OltpStatus {
  /** Open quarantined records of stage `oltp-sink`; `open: null` (with the reason) when the quarantine cannot be read. */
  quarantine: { open: number | null; error?: string };
  /** When the console read it (ISO-8601 UTC). */
  at: string;
}

/**
 * The OLTP page's data, from `read` (the database itself, or in AWS the status function in its VPC). The database is
 * the page's subject: when it cannot be reached (also when it stops answering half-way) this throws
 * `DatabaseUnavailableError`. The quarantine count is an extra: when
 * the quarantine bucket cannot be read the rest is still answered.
 */
export async function oltpOverview(
  read: (options: { latest?: number }) => Promise<OltpStatus>,
  quarantine: { counts(): Promise<QuarantineCounts> },
  latest: number,
): Promise<OltpOverview> {
  const [status, open] = await Promise.all([
    read({ latest }),
    quarantine.counts().then(
      (c): OltpOverview['quarantine'] => ({ open: c.byStage[OLTP_SINK_STAGE] ?? 0 }),
      (err: unknown): OltpOverview['quarantine'] => ({ open: null, error: errorMessage(err) }),
    ),
  ]);
  return { ...status, quarantine: open, at: new Date().toISOString() };
}

/**
 * The overview as a viewer sees it: each latest transaction's card number and customer name masked the way the
 * transactions type's manifest masks `/cc_num` and `/first`, `/last` (lib/masking.ts), since they come from them.
 */
export function maskOltpOverview(o: OltpOverview): OltpOverview {
  return {
    ...o,
    latest: o.latest.map((t) => ({
      ...t,
      cc_num: String(maskValue('card', t.cc_num)),
      customer: t.customer ? String(maskValue('name', t.customer)) : t.customer,
    })),
  };
}
