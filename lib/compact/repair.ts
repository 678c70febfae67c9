import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { getJsonOrNull, lostConditionalWrite } from '../aws/s3.ts';
import type { LocalObjectLayout } from '../catalog/duckdb.ts';
import { deterministicId } from '../ids.ts';
import { quarantineObjects, quarantineRecord, type QuarantineRecord } from '../quarantine/record.ts';
import { cleanFileError, refusal } from './parquet.ts';
import { CompactionError, type Run } from './types.ts';

/**
 * What a repair decided for one unreadable object, written before anything is quarantined so an interrupted repair
 * writes the same quarantine object again (same key, same records) instead of a second copy.
 */
interface RepairMarker {
  key: string;
  quarantinedAt: string;
  /** 1-based numbers of the lines DuckDB cannot read, with its error for each. */
  lines: { line: number; error: string }[];
}

/** Where a repair records which lines of a JSONL object it quarantines (kept: the record of the repair). */
export function repairMarkerKey(jsonlKey: string): string {
  return `_tributary/compaction/unreadable/${jsonlKey}.json`;
}

/**
 * Repairs an unreadable object in place: finds the lines DuckDB cannot read (halving the lines until each refused part
 * is one line, asking DuckDB itself each time), quarantines them, and writes the object again without them (same
 * key), so queries of its day read again and compaction goes on. Returns the number of lines quarantined, or
 * undefined when the object cannot be split into lines DuckDB reads.
 *
 * Exactly once: the decision (lines, quarantine time) is recorded in a marker before anything is written — by the first
 * repair only (`If-None-Match`), and kept as the record of the repair — and the quarantine object's key and content
 * follow from the marker, so a repair that stops anywhere, or runs beside another, writes the same quarantine object
 * again, never a second one. The lake object is rewritten only after its lines are in the quarantine, and only over
 * the bytes that were read (`If-Match`).
 */
export async function repairObject(
  run: Run,
  c: DuckDBConnection,
  layout: LocalObjectLayout,
  key: string,
  etag: string,
  error: string,
): Promise<number | undefined> {
  const { deps, t } = run;
  const root = layout.bucketDir('lake');
  const file = path.join(root, key);
  let lines: Buffer[];
  try {
    lines = splitLines(gunzipSync(readFileSync(file)));
  } catch {
    return undefined; // Not gzip at all: there are no lines to tell apart; it stays reported as unreadable.
  }
  const gzipOf = (idx: number[]) => gzipSync(Buffer.concat(idx.flatMap((i) => [lines[i]!, NL])));
  const readAs = (idx: number[]) => {
    writeFileSync(file, gzipOf(idx));
    return refusal(c, t, layout, file);
  };
  const every = lines.map((_, i) => i);
  const markerKey = repairMarkerKey(key);
  let marker = await getJsonOrNull<RepairMarker>(deps.s3, deps.buckets.lake, markerKey);
  if (!marker) {
    const bad: RepairMarker['lines'] = [];
    const bisect = async (idx: number[], known?: string): Promise<void> => {
      const e = known ?? (await readAs(idx));
      if (e === undefined) return;
      if (idx.length === 1) {
        bad.push({ line: idx[0]! + 1, error: cleanFileError(e, root) });
        return;
      }
      const half = Math.ceil(idx.length / 2);
      await bisect(idx.slice(0, half));
      await bisect(idx.slice(half));
    };
    await bisect(every, error);
    if (!bad.length) return undefined;
    const mine: RepairMarker = { key, quarantinedAt: (run.options.now ?? new Date()).toISOString(), lines: bad };
    // Only the first repair decides: a concurrent one that decided first has its marker used instead.
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.buckets.lake,
          Key: markerKey,
          Body: JSON.stringify(mine),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      marker = mine;
    } catch (err) {
      if (!lostConditionalWrite(err)) throw err;
      marker = await getJsonOrNull<RepairMarker>(deps.s3, deps.buckets.lake, markerKey);
      if (!marker) throw new CompactionError('repair_race', `Another run is repairing ${key}; run compaction again.`);
    }
  }
  const removed = new Set(marker.lines.map((l) => l.line - 1));
  const kept = every.filter((i) => !removed.has(i));
  if ((await readAs(kept)) !== undefined) return undefined;
  const unique = `compactor-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
  for (const o of quarantineObjects(repairRecords(marker, lines), 'lake-writer', unique)) {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.buckets.quarantine!,
        Key: o.key,
        Body: o.body,
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
      }),
    );
  }
  // Only over the object as it was read: a run that repaired it (or compacted it away) first wins.
  try {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.buckets.lake,
        Key: key,
        Body: gzipOf(kept),
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
        IfMatch: etag,
      }),
    );
  } catch (err) {
    if (lostConditionalWrite(err))
      throw new CompactionError('repair_race', `Another run repaired ${key} first; run compaction again.`);
    throw err;
  }
  return marker.lines.length;
}

/** The quarantine records of a repair: one per unreadable line, the line's bytes as the payload. */
function repairRecords(marker: RepairMarker, lines: Buffer[]): QuarantineRecord[] {
  return marker.lines.map(({ line, error }) => {
    const raw = lines[line - 1]!;
    let env: { type?: unknown; v?: unknown; received_at?: unknown } = {};
    try {
      // JavaScript reads a lone surrogate where DuckDB does not: the envelope's fields are still known.
      env = JSON.parse(raw.toString('utf8')) as typeof env;
    } catch {
      /* not JSON at all: the payload is all there is */
    }
    const receivedAt =
      typeof env.received_at === 'string' && !Number.isNaN(Date.parse(env.received_at))
        ? new Date(env.received_at).toISOString()
        : marker.quarantinedAt;
    return quarantineRecord({
      id: deterministicId('compactor', marker.key, String(line)),
      stage: 'lake-writer',
      reason: 'malformed_json',
      errors: [
        {
          path: '/',
          keyword: 'unreadable',
          message: `Line ${line} of lake object ${marker.key} cannot be read by the query engine (${error}); fix the event and re-drive it.`,
        },
      ],
      ...(typeof env.type === 'string' ? { type: env.type } : {}),
      ...(typeof env.v === 'number' ? { v: env.v } : {}),
      receivedAt,
      quarantinedAt: marker.quarantinedAt,
      payload: raw,
      source: 'compactor',
    });
  });
}

const NL = Buffer.from('\n');

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}
