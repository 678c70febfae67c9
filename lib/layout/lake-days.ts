/**
 * The days the lake's tables show, one rule for Athena's `dt` partition projection and for what ingest accepts, so no
 * accepted event lands in a partition Athena cannot see. From the Unix epoch (the first instant the unix-seconds and
 * unix-millis event times can write; the data we replace starts in 2013 for taxi trips and 2019 for card
 * transactions, and replays of old exports go further back) to one day after the time the event is written: clocks
 * ahead, or local time written as UTC (up to UTC+14), stay visible, while a unit mistake (milliseconds sent as
 * seconds, years ahead) is refused. Athena evaluates `NOW` when it queries, which is never before the write.
 */
export const LAKE_DAYS = { first: '1970-01-01', daysAhead: 1 } as const;

const DAY_MS = 86_400_000;

/**
 * Why an event time (ms) is outside {@link LAKE_DAYS} when written at `nowMs`, as the end of a sentence about the
 * value; `undefined` when the tables show it.
 */
export function outsideLakeDays(eventMs: number, nowMs: number): string | undefined {
  if (eventMs < Date.parse(LAKE_DAYS.first))
    return `is before ${LAKE_DAYS.first}, the first day the lake's tables show`;
  const last = new Date(nowMs + LAKE_DAYS.daysAhead * DAY_MS).toISOString().slice(0, 10);
  if (new Date(eventMs).toISOString().slice(0, 10) > last) {
    return `is after ${last}, the last day the lake's tables show (${LAKE_DAYS.daysAhead} day after now); check the producer's clock and time zone, and the unit of the time`;
  }
  return undefined;
}
