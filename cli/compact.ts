import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../lib/config.ts';
import { compactLake, defaultBefore } from '../lib/lake/compact.ts';
import { formatBytes } from '../lib/util/format.ts';
import { compactorDeps } from '../lib/runtime.ts';
import { dataDirOf, fmt, type Io } from './common.ts';

export const compactHelp = `tributary compact [--before YYYY-MM-DDTHH] [--table <name> ...] [--json]

Rewrites the JSONL objects of closed partition-hours as Parquet (ZSTD, sorted by event time, about one object per
128 MB) under compacted/<type>/. Queries see every row exactly once throughout; an interrupted run is finished by the
next one, and late records for a compacted hour are compacted by a later run.

Options:
  --before HOUR   compact hours strictly before this UTC hour (default: hours that ended at least an hour ago, ${defaultBefore()})
  --table NAME    only this table (repeatable): transactions, taxi_trips, clickstream
  --json          print the result as JSON
  --data-dir DIR  the local runtime's data directory
`;

export async function compactCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { before: { type: 'string' }, table: { type: 'string', multiple: true }, json: { type: 'boolean' }, 'data-dir': { type: 'string' } },
    strict: true,
  });
  const config = loadConfig({ ...process.env, TRIBUTARY_DATA_DIR: dataDirOf(values['data-dir']) });
  const bar = io.isTTY && !values.json ? new cliProgress.SingleBar({ format: 'compacting {table} [{bar}] {value}/{total} partition-hours', clearOnComplete: true }, cliProgress.Presets.shades_classic) : undefined;
  let current = '';
  const result = await compactLake(compactorDeps(config), {
    ...(values.before ? { before: values.before } : {}),
    ...(values.table ? { tables: values.table } : {}),
    onProgress: (p) => {
      if (!bar) return;
      if (p.table !== current) {
        if (current) bar.stop();
        current = p.table;
        bar.start(p.total, 0, { table: p.table });
      }
      bar.update(p.done, { table: p.table });
    },
  });
  bar?.stop();
  if (values.json) {
    io.out(JSON.stringify(result));
    return 0;
  }
  io.out(
    `Compacted hours before ${result.before}: ${fmt(result.partitions)} partition-hours, ${fmt(result.sourceObjects)} JSONL objects (${formatBytes(result.bytesIn)}) → ` +
      `${fmt(result.parquetObjects)} Parquet objects (${formatBytes(result.bytesOut)}), ${fmt(result.rows)} rows in ${(result.ms / 1000).toFixed(1)} s` +
      (result.resumed ? `; finished an interrupted run (${fmt(result.resumed)} leftover objects removed)` : ''),
  );
  return 0;
}
