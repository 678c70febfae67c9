import { destroyAwsClients } from '../lib/aws/clients.ts';
import { TributaryError } from '../lib/errors.ts';
import { UsageError, stdio, type Io } from './common.ts';
import { compactCommand, compactHelp } from './compact.ts';
import { dbCommand, dbHelp } from './db.ts';
import { importCommand, importHelp } from './import.ts';
import { devCommand, devHelp } from './dev.ts';
import { produceCommand, produceHelp } from './produce.ts';
import { queriesCommand, queriesHelp, queryCommand, queryHelp } from './query.ts';
import { quarantineCommand, quarantineHelp, redriveCommand, redriveHelp } from './quarantine.ts';
import { schemasCommand, schemasHelp } from './schemas.ts';
import { statusCommand, statusHelp } from './status.ts';
import { settingAbout, type SettingName } from '../lib/config.ts';

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
  import     table exports (as INSERT/UPDATE/DELETE by key) and raw event files; list, show, approve, reject
  schemas    event types and their schema versions: list, show, diff, check a candidate's compatibility

Run \`tributary <command> --help\` for a command's options. Exit codes: 0 ok, 1 failure, 2 usage error.
`;

/** What every command that reaches the stack reads: where it is (locally), or its resources' names (in AWS). */
const STACK: SettingName[] = [
  'TRIBUTARY_DATA_DIR',
  'TRIBUTARY_MODE',
  'TRIBUTARY_HOST',
  'TRIBUTARY_KINESIS_PORT',
  'TRIBUTARY_S3_PORT',
  'TRIBUTARY_KINESIS_ENDPOINT',
  'TRIBUTARY_S3_ENDPOINT',
  'AWS_REGION',
  'TRIBUTARY_STREAM_NAME',
  'TRIBUTARY_LAKE_BUCKET',
  'TRIBUTARY_QUARANTINE_BUCKET',
  'TRIBUTARY_SCHEMAS_DIR',
];
const DATABASE: SettingName[] = [
  'DATABASE_URL',
  'TRIBUTARY_PG_PORT',
  'TRIBUTARY_DB_HOST',
  'TRIBUTARY_DB_PORT',
  'TRIBUTARY_DB_USER',
  'TRIBUTARY_DB_NAME',
  'TRIBUTARY_DB_SECRET_ARN',
];

type Command = { run: (argv: string[], io: Io) => Promise<number>; help: string; reads: SettingName[] };

/** Each command with its help and the variables it reads (listed under its help, from lib/config.ts). */
export const commands: Record<string, Command> = {
  dev: {
    run: devCommand,
    help: devHelp,
    reads: [
      'TRIBUTARY_DATA_DIR',
      'TRIBUTARY_HOST',
      'TRIBUTARY_API_PORT',
      'TRIBUTARY_CONSOLE_PORT',
      'TRIBUTARY_KINESIS_PORT',
      'TRIBUTARY_S3_PORT',
      'TRIBUTARY_PG_PORT',
      'DATABASE_URL',
      'TRIBUTARY_API_KEY',
      'TRIBUTARY_CONSOLE_PASSWORD',
      'TRIBUTARY_CONSOLE_VIEWER_PASSWORD',
      'TRIBUTARY_CONSOLE_EXPORT',
      'TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB',
      'TRIBUTARY_REDRIVE_RATE',
      'TRIBUTARY_SCHEMAS_DIR',
      'TRIBUTARY_QUERIES_DIR',
      'TRIBUTARY_FAULTS',
    ],
  },
  produce: {
    run: produceCommand,
    help: produceHelp,
    reads: [
      'TRIBUTARY_API_URL',
      'TRIBUTARY_API_KEY',
      'TRIBUTARY_DATA_DIR',
      'TRIBUTARY_HOST',
      'TRIBUTARY_API_PORT',
      'TRIBUTARY_SCHEMAS_DIR',
    ],
  },
  status: { run: statusCommand, help: statusHelp, reads: STACK },
  query: {
    run: queryCommand,
    help: queryHelp,
    reads: [...STACK, 'TRIBUTARY_ATHENA_RESULTS_BUCKET', 'TRIBUTARY_ATHENA_WORKGROUP', 'TRIBUTARY_GLUE_DATABASE'],
  },
  queries: {
    run: queriesCommand,
    help: queriesHelp,
    reads: [...STACK, 'TRIBUTARY_ATHENA_RESULTS_BUCKET', 'TRIBUTARY_ATHENA_WORKGROUP', 'TRIBUTARY_QUERIES_DIR'],
  },
  compact: { run: compactCommand, help: compactHelp, reads: STACK },
  quarantine: { run: quarantineCommand, help: quarantineHelp, reads: [...STACK, 'TRIBUTARY_CONSOLE_EXPORT'] },
  redrive: { run: redriveCommand, help: redriveHelp, reads: [...STACK, 'TRIBUTARY_REDRIVE_RATE'] },
  db: { run: dbCommand, help: dbHelp, reads: ['TRIBUTARY_DATA_DIR', 'TRIBUTARY_MODE', 'TRIBUTARY_HOST', ...DATABASE] },
  import: {
    run: importCommand,
    help: importHelp,
    reads: [...STACK, 'TRIBUTARY_IMPORTS_BUCKET', 'TRIBUTARY_TABLES_DIR', ...DATABASE],
  },
  schemas: { run: schemasCommand, help: schemasHelp, reads: ['TRIBUTARY_SCHEMAS_DIR'] },
};

/** A command's help followed by the variables it reads, one line each, as the README's configuration table has them. */
export function commandHelp(cmd: Command): string {
  const width = Math.max(...cmd.reads.map((n) => n.length)) + 2;
  const lines = cmd.reads.map((n) => `  ${n.padEnd(width)}${settingAbout(n).replaceAll('`', '')}`);
  return `${cmd.help.trimEnd()}\n\nVariables (unset: what a running tributary dev recorded in the data directory, else the default; README, Configuration):\n${lines.join('\n')}\n`;
}

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
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.err(`error: ${(err as Error).message}`);
    if (usage) {
      io.err(`\n${commandHelp(cmd)}`);
      return 2;
    }
    if (!(err instanceof TributaryError)) io.err((err as Error).stack ?? '');
    return 1;
  } finally {
    if (name !== 'dev') destroyAwsClients();
  }
}
