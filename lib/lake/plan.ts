import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { EnvelopeError, parseEnvelope } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { deterministicId } from '../ids.ts';
import {
  quarantineObjects,
  quarantineRecord,
  type QuarantineObject,
  type QuarantineReason,
  type QuarantineRecord,
} from '../quarantine/record.ts';
import type { Registry } from '../registry/registry.ts';
import { AggregateFormatError, aggregateTexts, isAggregate } from '../stream/aggregate.ts';
import { compareSeq, type StreamRecord } from '../stream/records.ts';
import { changesPrefix, lakeObjectName, lakePrefix } from '../layout/partition.ts';
import { operationOf, tableOfChangesType } from '../imports/ops.ts';
import type { TableRegistry } from '../imports/tables.ts';

/**
 * gzip level for lake objects. Level 1 keeps the writer above 100k records/s per core at ~7 % larger objects than
 * level 3 (4.9x vs 5.3x on transactions); closed hours are compacted to Parquet anyway.
 */
export const LAKE_GZIP_LEVEL = 1;

/** One object the batch will write: all records of one partition, in sequence order. */
export interface PlannedObject {
  bucket: 'lake' | 'quarantine';
  key: string;
  body: Buffer;
  count: number;
  firstSeq: string;
  lastSeq: string;
  /** Sequence numbers of the records in this object. */
  seqs: string[];
  /** Envelope ids (lake objects) or quarantine ids, for callers that report what went where. */
  ids: string[];
}

export interface BatchPlan {
  shardId: string;
  firstSeq: string;
  lastSeq: string;
  objects: PlannedObject[];
  rows: number;
  quarantined: number;
  /** Re-drives meant for a later consumer only (the lake already holds the event). */
  skipped: number;
  /** Records left out as a second copy of an event in the same object (the tables' dedupe rule keeps the other). */
  duplicates: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Turns one shard's batch into the objects to write, without any I/O: decodes each envelope, groups by lake partition
 * (`events/<type>/dt=/hour=[/field=]`, or a table import's `imports/<table>/changes/dt=/hour=/tenant=`), and gzips one JSONL object per partition named by the shard and the first and
 * last sequence number it holds, so a retry of the same records produces the same names. Records that cannot be
 * decoded become quarantine records (stage `lake-writer`) in one object per reason, named the same way. An aggregate
 * (lib/stream/aggregate.ts) is its envelopes, each placed as a record of its own would be, all at its sequence number.
 */
export function planBatch(
  records: StreamRecord[],
  registry: Registry,
  now: Date = new Date(),
  tables?: TableRegistry,
): BatchPlan {
  if (records.length === 0) throw new Error('planBatch needs at least one record');
  const sorted = [...records].sort((a, b) => compareSeq(a.sequenceNumber, b.sequenceNumber));
  const shardId = sorted[0]!.shardId;
  const groups = new Map<string, { lines: Buffer[]; seqs: string[]; ids: string[]; received: number[] }>();
  const quarantined: QuarantineRecord[] = [];
  const seqOf = new Map<QuarantineRecord, string>();
  const quarantinedAt = now.toISOString();
  let skipped = 0;

  const quarantine = (r: StreamRecord, sub: number | undefined, payload: Buffer, err: unknown) => {
    const reason: QuarantineReason =
      err instanceof EnvelopeError
        ? (err.code as QuarantineReason)
        : err instanceof AggregateFormatError
          ? 'malformed_json'
          : 'processing_error';
    quarantined.push(
      quarantineRecord({
        // An envelope of an aggregate is named by its place in it.
        id:
          sub === undefined
            ? deterministicId(r.shardId, r.sequenceNumber)
            : deterministicId(r.shardId, r.sequenceNumber, String(sub)),
        stage: 'lake-writer',
        reason,
        errors: [{ path: '/', keyword: reason, message: errorMessage(err) }],
        receivedAt: new Date(r.arrivedAt).toISOString(),
        quarantinedAt,
        payload,
        source: 'stream',
      }),
    );
    seqOf.set(quarantined[quarantined.length - 1]!, r.sequenceNumber);
  };

  for (const r of sorted) {
    let texts: (string | undefined)[];
    if (isAggregate(r.data)) {
      try {
        texts = aggregateTexts(r.data);
      } catch (err) {
        quarantine(r, undefined, r.data, err);
        continue;
      }
    } else texts = [undefined];
    texts.forEach((inner, sub) => {
      let prefix: string;
      let line: Buffer = inner === undefined ? r.data : Buffer.from(inner);
      let id: string;
      let receivedAt: string;
      try {
        const text = inner ?? r.data.toString('utf8');
        const envelope = parseEnvelope(text);
        if (envelope.redrive?.stage === 'oltp-sink') {
          skipped++;
          return;
        }
        const table = tableOfChangesType(envelope.type);
        if (table !== undefined) {
          // A table import's operation: checked against its table's definition, kept with the table's changes.
          if (!tables?.has(table))
            throw new EnvelopeError(
              'unknown_type',
              `Envelope type ${JSON.stringify(envelope.type)} carries operations of table ${JSON.stringify(table)}, which has no definition (tables/${table}.json).`,
            );
          const op = operationOf(envelope, tables.get(table));
          prefix = changesPrefix(table, envelope.event_time, op.tenant);
        } else {
          const type = registry.has(envelope.type) ? registry.get(envelope.type) : undefined;
          if (!type)
            throw new EnvelopeError(
              'unknown_type',
              `Envelope type ${JSON.stringify(envelope.type)} is not registered (${registry.names().join(', ')}).`,
            );
          prefix = lakePrefix(
            type.name,
            envelope.event_time,
            type.partitions.map((p) => ({ name: p.name, value: p.get(envelope.data) })),
          );
        }
        id = envelope.id;
        receivedAt = envelope.received_at;
        // JSONL needs one record per line; envelopes from our producers never hold raw newlines, others get re-serialized.
        if (line.includes(NEWLINE) || line.includes(CR) || (text.length !== line.length && !isUtf8(line)))
          line = Buffer.from(JSON.stringify(envelope));
      } catch (err) {
        quarantine(r, inner === undefined ? undefined : sub, line, err);
        return;
      }
      let g = groups.get(prefix);
      if (!g) groups.set(prefix, (g = { lines: [], seqs: [], ids: [], received: [] }));
      g.lines.push(line);
      g.seqs.push(r.sequenceNumber);
      g.ids.push(id);
      g.received.push(Date.parse(receivedAt));
    });
  }

  const objects: PlannedObject[] = [];
  let rows = 0;
  let duplicates = 0;
  for (const [prefix, all] of groups) {
    // One line per event id in an object: readers rank copies by received time and then by object, so copies in one
    // object would tie. The same rule decides here: the earliest received, then the first in sequence order.
    const first = new Map<string, number>();
    all.ids.forEach((id, i) => {
      const j = first.get(id);
      if (j === undefined || all.received[i]! < all.received[j]!) first.set(id, i);
    });
    const keep = (_: unknown, i: number) => first.get(all.ids[i]!) === i;
    const g =
      first.size === all.ids.length
        ? all
        : { lines: all.lines.filter(keep), seqs: all.seqs.filter(keep), ids: all.ids.filter(keep) };
    duplicates += all.ids.length - g.ids.length;
    const parts: Buffer[] = [];
    for (const l of g.lines) parts.push(l, NL);
    const firstSeq = g.seqs[0]!;
    const lastSeq = g.seqs[g.seqs.length - 1]!;
    objects.push({
      bucket: 'lake',
      key: `${prefix}/${lakeObjectName(shardId, firstSeq, lastSeq)}`,
      body: gzipSync(Buffer.concat(parts), { level: LAKE_GZIP_LEVEL }),
      count: g.lines.length,
      firstSeq,
      lastSeq,
      seqs: g.seqs,
      ids: g.ids,
    });
    rows += g.lines.length;
  }
  if (quarantined.length) {
    const first = seqOf.get(quarantined[0]!)!;
    const last = seqOf.get(quarantined[quarantined.length - 1]!)!;
    for (const o of quarantineObjects(
      quarantined,
      'lake-writer',
      lakeObjectName(shardId, first, last).replace('.jsonl.gz', ''),
    ) as QuarantineObject[]) {
      const seqs = o.records.map((rec) => seqOf.get(rec)!);
      objects.push({
        bucket: 'quarantine',
        key: o.key,
        body: o.body,
        count: o.count,
        firstSeq: seqs[0]!,
        lastSeq: seqs[seqs.length - 1]!,
        seqs,
        ids: o.records.map((rec) => rec.id),
      });
    }
  }
  return {
    shardId,
    firstSeq: sorted[0]!.sequenceNumber,
    lastSeq: sorted[sorted.length - 1]!.sequenceNumber,
    objects,
    rows,
    quarantined: quarantined.length,
    skipped,
    duplicates,
  };
}

const NL = Buffer.from('\n');
