import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { EnvelopeError, parseEnvelope } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { logger } from '../observability.ts';
import { quarantineRecord } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import { ensureMigrated, recordProgress } from '../oltp/sink.ts';
import type { ShardOutcome } from '../stream/batch.ts';
import { AggregateFormatError, aggregateTexts, isAggregate } from '../stream/aggregate.ts';
import { compareSeq, groupByShard, type StreamRecord } from '../stream/records.ts';
import { parseJson } from '../registry/json.ts';
import { applyOperations, ensureImportTable, type ImportOperation } from './apply.ts';
import { TableChangedError } from './errors.ts';
import { changesType, operationOf, tableOfChangesType } from './ops.ts';
import type { TableDef, TableRegistry } from './tables.ts';

/*
 * The import applier: a stream consumer (its mapping lets only operations through) that applies each shard's batch
 * of operations to the imported tables in Postgres (lib/imports/apply.ts). Exactly once without bookkeeping: applying
 * is idempotent and order-safe by version, so a batch delivered again — after a crash, a timeout, an outage — changes
 * nothing it already changed. While the database is unavailable the shard's whole batch is delivered again; an
 * operation the table refuses for its data is quarantined (stage `import`, reason `db_rejected`) and does not hold
 * the shard up.
 */

export interface ImportApplierDeps {
  pool: pg.Pool;
  s3: S3Client;
  quarantineBucket: string;
  tables: TableRegistry;
  /** Operations per statement. */
  chunkSize?: number;
  now?: () => Date;
}

export interface ApplierResult extends ShardOutcome {
  applied: number;
  /** Operations that changed nothing: their row already holds that version or a later one. */
  skipped: number;
  rejected: number;
  /** Records that are not operations of a defined table (the lake writer quarantines what cannot be read). */
  /**
   * Records that are not operations of a defined table. Not lost: the lake writer, which reads every record, quarantines
   * what it cannot place (stage lake-writer), and a re-drive once the definition is there reaches both consumers.
   */
  ignored: number;
}

/** The applier's rows in `sink_progress`. */
export const APPLIER_CONSUMER = 'import-applier';

const ensured = new WeakMap<pg.Pool, Map<string, Promise<void>>>();

/** Creates (or checks) a table's Postgres table once per pool; a failed attempt is tried again next batch. */
function ensureOnce(pool: pg.Pool, def: TableDef): Promise<void> {
  let byTable = ensured.get(pool);
  if (!byTable) ensured.set(pool, (byTable = new Map()));
  let p = byTable.get(def.name);
  if (!p) {
    p = ensureImportTable(pool, def).catch((err: unknown) => {
      byTable.delete(def.name);
      throw err;
    });
    byTable.set(def.name, p);
  }
  return p;
}

/** The table an operation envelope's type names, when it is one of a defined table. */
function tableOfType(tables: TableRegistry, type: string): TableDef | undefined {
  const name = tableOfChangesType(type);
  return name && tables.has(name) ? tables.get(name) : undefined;
}

/** An operation and where it came from: its record and, for an aggregate's, its place and text in it. */
interface Item {
  op: ImportOperation;
  record: StreamRecord;
  sub?: number;
  text?: string;
}

/** Applies one shard's records (see the module comment). */
export async function applyShard(records: StreamRecord[], deps: ImportApplierDeps): Promise<ApplierResult> {
  const sorted = [...records].sort((a, b) => compareSeq(a.sequenceNumber, b.sequenceNumber));
  const shardId = sorted[0]?.shardId ?? 'shardId-unknown';
  const result: ApplierResult = { shardId, applied: 0, skipped: 0, rejected: 0, ignored: 0 };
  if (!sorted.length) return result;
  const byTable = new Map<string, { def: TableDef; items: Item[] }>();
  const refused: {
    item: Item | Omit<Item, 'op'>;
    error: string;
    type?: string;
    reason?: 'db_rejected' | 'malformed_json';
  }[] = [];
  for (const record of sorted) {
    let texts: (string | undefined)[] = [undefined];
    if (isAggregate(record.data)) {
      try {
        texts = aggregateTexts(record.data);
      } catch (err) {
        if (!(err instanceof AggregateFormatError)) throw err;
        // A newer format waits for this applier to be upgraded (delivered again, nothing applied past it); one that
        // cannot be read at all is set aside where operators see it, never counted as applied.
        if (err.problem === 'unsupported') {
          logger.error('import applier: an aggregate it cannot read; delivering the batch again', {
            error: err.message,
          });
          return { ...result, failedFrom: sorted[0]!.sequenceNumber, error: err.message };
        }
        refused.push({ item: { record }, error: err.message, reason: 'malformed_json' });
        continue;
      }
    }
    texts.forEach((inner, i) => {
      const at = { record, ...(inner === undefined ? {} : { sub: i, text: inner }) };
      let envelope: ReturnType<typeof parseEnvelope>;
      try {
        envelope = parseEnvelope(inner ?? record.data.toString('utf8'), parseJson);
      } catch {
        result.ignored++;
        return;
      }
      const def = tableOfType(deps.tables, envelope.type);
      if (!def) {
        result.ignored++;
        return;
      }
      try {
        const op = operationOf(envelope, def);
        let g = byTable.get(def.name);
        if (!g) byTable.set(def.name, (g = { def, items: [] }));
        g.items.push({ op, ...at });
      } catch (err) {
        if (!(err instanceof EnvelopeError)) throw err;
        refused.push({ item: at, error: err.message, type: envelope.type });
      }
    });
  }
  const chunkSize = deps.chunkSize ?? 500;
  try {
    // Its progress lives in sink_progress: the schema migrations first, as the OLTP sink does (once per process).
    await ensureMigrated(deps);
    for (const { def, items } of byTable.values()) {
      try {
        await ensureOnce(deps.pool, def);
      } catch (err) {
        // The table in Postgres no longer matches the definition: no operation of it can be applied until an operator
        // decides (the job refuses new exports of it meanwhile). Delivering the batch again would stall the shard for
        // every table; the operations go to the quarantine, to be re-driven once the table is put right.
        if (!(err instanceof TableChangedError)) throw err;
        for (const c of items) refused.push({ item: c, error: err.message, type: changesType(def.name) });
        continue;
      }
      for (let i = 0; i < items.length; i += chunkSize) {
        const chunk = items.slice(i, i + chunkSize);
        const r = await applyOperations(
          deps.pool,
          def,
          chunk.map((c) => c.op),
        );
        result.applied += r.applied;
        result.skipped += r.skipped;
        const itemOf = new Map(chunk.map((c) => [c.op, c]));
        for (const x of r.rejected)
          refused.push({ item: itemOf.get(x.op)!, error: x.error, type: changesType(def.name) });
      }
    }
    if (refused.length) {
      const at = (deps.now?.() ?? new Date()).toISOString();
      await writeQuarantine(
        deps.s3,
        deps.quarantineBucket,
        refused.map(({ item: { record, sub, text }, error, type, reason = 'db_rejected' }) =>
          quarantineRecord({
            // An operation of an aggregate is named by its place in it, and kept as its own envelope.
            id: `${record.shardId}-${record.sequenceNumber}${sub === undefined ? '' : `-${sub}`}`,
            stage: 'import',
            reason,
            errors: [{ path: '/', keyword: reason, message: error }],
            ...(type ? { type } : {}),
            receivedAt: new Date(record.arrivedAt).toISOString(),
            quarantinedAt: at,
            payload: text === undefined ? record.data : Buffer.from(text),
            source: 'stream',
          }),
        ),
        'import',
        `${shardId}-${sorted[0]!.sequenceNumber}-${sorted.at(-1)!.sequenceNumber}`,
      );
      result.rejected = refused.length;
    }
    // Where the applier stands on this shard, after the batch is in: what says an import is applied (its operations'
    // positions, lib/imports/registry.ts appliedOnStream). Part of the batch: if it cannot be written, the batch comes
    // again and changes nothing the second time.
    await recordProgress(deps.pool, APPLIER_CONSUMER, sorted, {
      applied: result.applied,
      duplicates: result.skipped,
      rejected: result.rejected,
      batches: 1,
    });
  } catch (err) {
    // Nothing is lost by delivering the whole batch again: what was applied is skipped the second time.
    const error = errorMessage(err);
    logger.warn('import applier: delivering the batch again', { shardId, error });
    return { ...result, failedFrom: sorted[0]!.sequenceNumber, error };
  }
  return result;
}

/** Applies a batch that may hold several shards. */
export function applyRecords(records: StreamRecord[], deps: ImportApplierDeps): Promise<ApplierResult[]> {
  return Promise.all(groupByShard(records).map((rs) => applyShard(rs, deps)));
}
