import { newId } from '../ids.ts';
import { type CsvCell, csvText } from '../util/csv.ts';
import { type Actor, requireOperator } from './access.ts';
import { writeAudit } from './audit.ts';
import type { QuarantineIndex } from './quarantine-index.ts';
import { filterParams, type QuarantineFilter } from './filter.ts';
import type { S3Client } from '@aws-sdk/client-s3';

export type ExportFormat = 'jsonl' | 'csv';

/** The CSV export's columns: the record's fields, with its qid and status first. */
export const CSV_COLUMNS = [
  'qid',
  'status',
  'id',
  'stage',
  'reason',
  'type',
  'v',
  'received_at',
  'quarantined_at',
  'attempts',
  'source',
  'errors',
  'payload_encoding',
  'payload',
] as const;

/**
 * Every record matching a filter as JSONL (the stored record plus `qid` and `status`) or CSV (through the shared
 * writer, so no payload or error text can be read as a spreadsheet formula), in chunks of 1,000 records for the caller
 * to stream; the export is written to the audit log when the last chunk has been produced. The index must be fresh.
 *
 * @throws QuarantineForbiddenError (403) for a viewer.
 */
export async function* exportRecords(
  deps: { s3: S3Client; bucket: string; index: QuarantineIndex },
  filter: QuarantineFilter,
  format: ExportFormat,
  actor: Actor,
  at: string,
): AsyncGenerator<string> {
  requireOperator(actor, 'Exporting');
  let n = 0;
  let lines: string[] = [];
  let rows: CsvCell[][] = [];
  let header = true;
  const csv = () => {
    const text = csvText(
      CSV_COLUMNS.map((name) => ({ name, numeric: name === 'v' || name === 'attempts' })),
      rows,
      { header },
    );
    header = false;
    rows = [];
    return text;
  };
  for (const e of deps.index.matching(filter)) {
    n++;
    if (format === 'jsonl') {
      lines.push(JSON.stringify({ qid: e.qid, status: e.status, ...e.record }));
    } else {
      const row: Record<string, unknown> = {
        ...(e.record as unknown as Record<string, unknown>),
        qid: e.qid,
        status: e.status,
      };
      rows.push(CSV_COLUMNS.map((c) => (row[c] ?? null) as CsvCell));
    }
    if (lines.length >= 1000) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
    if (rows.length >= 1000) yield csv();
  }
  if (lines.length) yield `${lines.join('\n')}\n`;
  if (format === 'csv' && (rows.length || header)) yield csv();
  await writeAudit(deps.s3, deps.bucket, {
    id: newId(),
    at,
    by: actor.by,
    role: actor.role,
    action: 'export',
    selection: 'filter',
    filter: filterParams(filter),
    requested: n,
    counts: { exported: n },
    note: format,
  });
}
