import { formatDuration } from '@/lib/util/format.ts';

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC, like the rest of the console); `—` when unknown. */
export function utcTime(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '—';
}

/** A card number for a screen: its last four digits only. */
export function maskCard(ccNum: string): string {
  return ccNum.length > 4 ? `•••• ${ccNum.slice(-4)}` : ccNum;
}

/** A count for a table or tile: `12,345`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** How long ago (`12 s ago`), or `—`. */
export function ago(ms: number | null): string {
  return ms === null ? '—' : `${formatDuration(ms)} ago`;
}

/** A duration (`850 ms`, `3 s`), or `—`. */
export function duration(ms: number | null): string {
  return ms === null ? '—' : formatDuration(ms);
}

/** The engine from `SELECT version()`: `PostgreSQL 17.4` without the build details. */
export function serverName(version: string): string {
  return version.split(' on ')[0]!.split(',')[0]!;
}
