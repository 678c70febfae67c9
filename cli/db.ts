import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { databasePool, databaseUrl, redactUrl } from '../lib/oltp/db.ts';
import { migrate } from '../lib/oltp/migrations.ts';
import { oltpStatus } from '../lib/oltp/status.ts';
import { formatDuration } from '../lib/util/format.ts';
import { fmt, intFlag, UsageError, type Io } from './common.ts';

export const dbHelp = `tributary db <migrate|status> [options]

The OLTP database the sink loads transactions into: DATABASE_URL when set, else the embedded PGlite server of
\`tributary dev\` (127.0.0.1:TRIBUTARY_PG_PORT, default 4570).

  migrate            apply the schema migrations that are not applied yet (the sink also does this on start)
  status             rows per table, migration, the sink's progress per shard, the latest transactions
    --json           machine-readable: {"tables": {"transaction": <rows>, ...}, "migration": ..., "sink": [...], ...}
    --latest N       also list the N newest transactions (default 5 in text, 0 in JSON)
`;

const ms = (n: number | null) => (n === null ? '—' : formatDuration(n));

export async function dbCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'migrate' && sub !== 'status')
    throw new UsageError(
      sub
        ? `Unknown db command ${JSON.stringify(sub)}; use migrate or status.`
        : 'Say what to do: tributary db migrate | status.',
    );
  const { values } = parseArgs({
    args: rest,
    options: { json: { type: 'boolean' }, latest: { type: 'string' } },
    strict: true,
  });
  const config = loadConfig();
  const url = redactUrl(databaseUrl(config));
  const pool = databasePool(config, 1);
  try {
    if (sub === 'migrate') {
      const r = await migrate(pool);
      if (values.json) io.out(JSON.stringify({ database: url, ...r }));
      else
        io.out(
          r.applied.length
            ? `Applied migration${r.applied.length > 1 ? 's' : ''} ${r.applied.join(', ')} to ${url}; now at ${r.version}.`
            : `${url} is up to date (migration ${r.version}).`,
        );
      return 0;
    }
    const latest = intFlag('latest', values.latest, values.json ? 0 : 5);
    const s = await oltpStatus(pool, { latest });
    if (values.json) {
      io.out(JSON.stringify({ database: url, ...s }));
      return 0;
    }
    const lines = [
      `Database  ${url}`,
      `Server    ${s.server.split(' on ')[0]}`,
      `Migration ${s.migration.current} of ${s.migration.latest}${s.migration.current < s.migration.latest ? ' — run `tributary db migrate`' : ''}`,
      'Rows',
    ];
    for (const [t, n] of Object.entries(s.tables)) lines.push(`  ${t.padEnd(12)} ${fmt(n).padStart(12)}`);
    if (s.sink.length) {
      lines.push('Sink');
      for (const p of s.sink) {
        lines.push(
          `  ${p.consumer} ${p.shardId}: ${fmt(p.applied)} applied, ${fmt(p.duplicates)} duplicates, ${fmt(p.rejected)} quarantined in ${fmt(p.batches)} batches; last batch ${ms(p.idleMs)} ago, ${ms(p.latencyMs)} after arrival`,
        );
      }
    }
    if (s.latest.length) {
      lines.push('Latest transactions');
      for (const t of s.latest)
        lines.push(
          `  ${t.trans_num}  ${(t.timestamp ?? '').slice(0, 19).replace('T', ' ')}  ${(t.amount ?? '').padStart(10)}  ${t.customer}  ${t.merchant ?? ''}${t.is_fraud ? '  FRAUD' : ''}`,
        );
    }
    io.out(lines.join('\n'));
    return 0;
  } finally {
    await pool.end();
  }
}
