import { destroyAwsClients } from '../lib/aws/clients.ts';
import { TributaryError } from '../lib/errors.ts';
import { UsageError, stdio, type Io } from './common.ts';
import { compactCommand, compactHelp } from './compact.ts';
import { dbCommand, dbHelp } from './db.ts';
import { devCommand, devHelp } from './dev.ts';
import { produceCommand, produceHelp } from './produce.ts';
import { queriesCommand, queriesHelp, queryCommand, queryHelp } from './query.ts';
import { quarantineCommand, quarantineHelp, redriveCommand, redriveHelp } from './quarantine.ts';
import { statusCommand, statusHelp } from './status.ts';

const HELP = `tributary — streaming data pipeline for AWS, fully runnable offline

Usage: tributary <command> [options]

Commands:
  dev        start the local pipeline (emulators, ingest API, lake writer, OLTP sink, console)
  produce    send events from a CSV/JSON/NDJSON file or a synthetic generator
  status     counts per stage: stream, lake, quarantine, on-failure
  query      run read-only SQL over the lake (DuckDB locally, Athena in AWS); --history
  queries    saved queries: list, show <name>, run <name> --param k=v
  compact    rewrite closed partition-hours of the lake as Parquet
  quarantine quarantined records: list, show <qid>, discard, export
  redrive    put quarantined records back on the stream (by qid or --all-matching filters)
  db         the OLTP database: migrate, status (rows per table, sink progress)

Run \`tributary <command> --help\` for a command's options. Exit codes: 0 ok, 1 failure, 2 usage error.
`;

const commands: Record<string, { run: (argv: string[], io: Io) => Promise<number>; help: string }> = {
  dev: { run: devCommand, help: devHelp },
  produce: { run: produceCommand, help: produceHelp },
  status: { run: statusCommand, help: statusHelp },
  query: { run: queryCommand, help: queryHelp },
  queries: { run: queriesCommand, help: queriesHelp },
  compact: { run: compactCommand, help: compactHelp },
  quarantine: { run: quarantineCommand, help: quarantineHelp },
  redrive: { run: redriveCommand, help: redriveHelp },
  db: { run: dbCommand, help: dbHelp },
};

/** Runs the CLI and returns its exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(HELP);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`Unknown command ${JSON.stringify(name)}.\n\n${HELP}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.err(`error: ${(err as Error).message}`);
    if (usage) {
      io.err(`\n${cmd.help}`);
      return 2;
    }
    if (!(err instanceof TributaryError)) io.err((err as Error).stack ?? '');
    return 1;
  } finally {
    if (name !== 'dev') destroyAwsClients();
  }
}
