import type { ImportEntry } from '@/lib/imports/service.ts';

/**
 * Colours per status (filled badges and timeline bullets): green done, blue working, yellow waiting for someone, red
 * refused or failed. Shades whose text (white, or black on yellow: `autoContrast`) meets 4.5:1.
 */
export const STATUS_COLOR: Record<string, string> = {
  queued: 'gray.7',
  running: 'blue.8',
  held: 'yellow.4',
  published: 'teal.9',
  failed: 'red.9',
  refused: 'red.9',
  rejected: 'gray.7',
  loading: 'blue.8',
  loaded: 'teal.9',
};

/** What a status means, for its tooltip. */
export const STATUS_ABOUT: Record<string, string> = {
  queued: 'waiting its turn (versions of a table run one at a time, in version order)',
  running: 'a job holds the table: computing the delta or publishing',
  held: 'stopped by the delete guard: an operator approves or rejects it',
  published: 'every operation is on the stream; applied once the applier has passed them',
  failed: 'the job failed; drop the file again to retry',
  refused: 'refused as a whole (bad rows, an old version, a definition mismatch): nothing was applied',
  rejected: 'an operator rejected it while held: nothing of it was applied',
  loading: 'a loader is putting its events on the stream',
  loaded: 'its valid events are on the stream, the invalid ones quarantined',
};

/** How long an import has taken (from its start to its end, or to `now` while it runs); null before it starts. */
export function importDuration(i: Pick<ImportEntry, 'startedAt' | 'finishedAt'>, now: number): number | null {
  if (!i.startedAt) return null;
  return Math.max(0, (i.finishedAt ? Date.parse(i.finishedAt) : now) - Date.parse(i.startedAt));
}

/** A SQL string literal (the value quoted, quotes doubled). */
const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The SQL workspace link of an import's operations in the lake: its changes table, filtered to the day its operations
 * are partitioned under (the import's registration), its tenant and its version. Opened in the editor, not run.
 */
export function changesLink(i: Pick<ImportEntry, 'table' | 'tenant' | 'version' | 'registeredAt'>): string {
  const sql = [
    'SELECT tributary_op, *',
    `FROM ${i.table}_changes`,
    `WHERE dt = ${literal(i.registeredAt.slice(0, 10))} AND tenant = ${literal(i.tenant)}`,
    `  AND tributary_version = ${literal(i.version)}`,
    'LIMIT 100',
  ].join('\n');
  return `/sql?${new URLSearchParams({ sql })}`;
}

/** The SQL workspace link of a tenant's current rows of an imported table (its current-state view). */
export function currentLink(t: { table: string; tenant: string }): string {
  return `/sql?${new URLSearchParams({ sql: `SELECT *\nFROM ${t.table}\nWHERE tenant = ${literal(t.tenant)}\nLIMIT 100` })}`;
}
