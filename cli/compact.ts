import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { compactLake, defaultBefore } from '../lib/compact/compact.ts';
import { leftUnreadable } from '../lib/compact/report.ts';
import { formatBytes } from '../lib/util/format.ts';
import { compactorDeps } from '../lib/composition.ts';
import { commandConfig, fmt, type Io } from './common.ts';

export const compactHelp = `tributary compact [--before YYYY-MM-DDTHH] [--table <name> ...] [--quarantine-unreadable] [--json]

Rewrites the JSONL objects of closed partition-hours as Parquet (ZSTD, sorted by event time, about one object per
128 MB) under compacted/<type>/ (an imported table's operations under imports/<table>/compacted/). Queries see every row exactly once throughout; an interrupted run is finished by the
next one, and late records for a compacted hour are compacted by a later run. A partition-hour that fails does not
stop the others; an object DuckDB cannot read is left as JSONL and reported. Exit code 1 when anything was left.

Options:
  --before HOUR            compact hours strictly before this UTC hour (default: hours that ended at least an hour ago, ${defaultBefore()})
  --table NAME             only this table (repeatable): transactions, taxi_trips, clickstream, <imported>_changes
  --quarantine-unreadable  move the lines of unreadable objects that DuckDB cannot read to the quarantine (fix and
                           re-drive them there) and compact the rest of those objects
  --json                   print the result as JSON
  --data-dir DIR           the local runtime's data directory
`;

export async function compactCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      before: { type: 'string' },
      table: { type: 'string', multiple: true },
      'quarantine-unreadable': { type: 'boolean' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const config = commandConfig(values['data-dir']);
  const bar =
    io.isTTY && !values.json
      ? new cliProgress.SingleBar(
          { format: 'compacting {table} [{bar}] {value}/{total} partition-hours', clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let current = '';
  const result = await compactLake(compactorDeps(config), {
    ...(values.before ? { before: values.before } : {}),
    ...(values.table ? { tables: values.table } : {}),
    ...(values['quarantine-unreadable'] ? { quarantineUnreadable: true } : {}),
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
  const unreadable = leftUnreadable(result);
  const code = result.failed.length || unreadable.length ? 1 : 0;
  if (values.json) {
    io.out(JSON.stringify(result));
    return code;
  }
  io.out(
    `Compacted hours before ${result.before}: ${fmt(result.partitions)} partition-hours, ${fmt(result.sourceObjects)} JSONL objects (${formatBytes(result.bytesIn)}) → ` +
      `${fmt(result.parquetObjects)} Parquet objects (${formatBytes(result.bytesOut)}), ${fmt(result.rows)} rows in ${(result.ms / 1000).toFixed(1)} s` +
      (result.duplicates ? `; ${fmt(result.duplicates)} later copies of events left out (one row per event id)` : '') +
      (result.resumed ? `; finished an interrupted run (${fmt(result.resumed)} leftover objects removed)` : ''),
  );
  if (result.quarantined) {
    const objects = result.unreadable.length - unreadable.length;
    io.out(
      `Quarantined ${fmt(result.quarantined)} unreadable lines of ${fmt(objects)} objects (stage lake-writer, reason malformed_json); fix and re-drive them with \`tributary quarantine\` / \`tributary redrive\` or the console's Quarantine page.`,
    );
  }
  if (result.failed.length) {
    io.err(`${fmt(result.failed.length)} partition-hours could not be compacted; the next run tries them again:`);
    for (const f of result.failed) io.err(`  ${f.table} ${f.partition}: ${f.error}`);
  }
  if (unreadable.length) {
    io.err(
      `${fmt(unreadable.length)} objects DuckDB cannot read were left as JSONL (queries of their day fail until they are repaired); \`tributary compact --quarantine-unreadable\` moves their unreadable lines to the quarantine:`,
    );
    for (const u of unreadable) io.err(`  ${u.key}: ${u.error}`);
  }
  return code;
}
