import { parseArgs } from 'node:util';
import { startDev } from '../local/dev.ts';
import { LOCAL_DEFAULTS, readSettings } from '../lib/config.ts';
import { dataDirOf, intFlag, fmt, type Io } from './common.ts';

export const devHelp = `tributary dev [options]

Starts the whole pipeline on this machine: kinesalite (Kinesis) and s3rver (S3) with data in .data/, the ingest API,
the lake writer and the OLTP sink behind Lambda-like shard pollers, and the console. The sink loads transactions into
DATABASE_URL when it is set, else into an embedded PGlite server (Postgres in WebAssembly, data in .data/pglite).

Options:
  --reset               delete the local data (stream, lake, quarantine, checkpoints) first
  --no-console          run the pipeline without the web console
  --console-dev         serve the console with \`next dev\` (edits show at once, pages compile on first visit)
                        instead of its production build (built on the first start and whenever its sources change)
  --no-consumers        do not run the lake writer or the sink (records stay on the stream)
  --no-oltp             do not run the OLTP sink (nor PGlite)
  --data-dir <dir>      where data lives (default .data, or TRIBUTARY_DATA_DIR)
  --host <ip>           bind address (default 127.0.0.1)
  --api-port <n>        ingest API port (default 4000)
  --console-port <n>    console port (default 3000)
  --kinesis-port <n>    Kinesis emulator port (default 4567)
  --s3-port <n>         S3 emulator port (default 4569)
  --pg-port <n>         embedded PGlite port (default 4570; unused with DATABASE_URL)
  --shards <n>          shards of a new stream (default 2)
`;

export async function devCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reset: { type: 'boolean' },
      'no-console': { type: 'boolean' },
      'console-dev': { type: 'boolean' },
      'no-consumers': { type: 'boolean' },
      'no-oltp': { type: 'boolean' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      'api-port': { type: 'string' },
      'console-port': { type: 'string' },
      'kinesis-port': { type: 'string' },
      's3-port': { type: 'string' },
      'pg-port': { type: 'string' },
      shards: { type: 'string' },
    },
    strict: true,
  });
  const settings = readSettings();
  const dataDir = dataDirOf(values['data-dir']);
  const runtime = await startDev({
    dataDir,
    host: values.host ?? settings.TRIBUTARY_HOST ?? LOCAL_DEFAULTS.host,
    ports: {
      api: intFlag('api-port', values['api-port'], settings.TRIBUTARY_API_PORT ?? LOCAL_DEFAULTS.ports.api),
      console: intFlag(
        'console-port',
        values['console-port'],
        settings.TRIBUTARY_CONSOLE_PORT ?? LOCAL_DEFAULTS.ports.console,
      ),
      kinesis: intFlag(
        'kinesis-port',
        values['kinesis-port'],
        settings.TRIBUTARY_KINESIS_PORT ?? LOCAL_DEFAULTS.ports.kinesis,
      ),
      s3: intFlag('s3-port', values['s3-port'], settings.TRIBUTARY_S3_PORT ?? LOCAL_DEFAULTS.ports.s3),
      pg: intFlag('pg-port', values['pg-port'], settings.TRIBUTARY_PG_PORT ?? LOCAL_DEFAULTS.ports.pg),
    },
    oltp: !values['no-oltp'],
    reset: !!values.reset,
    console: !values['no-console'],
    consoleDev: !!values['console-dev'],
    consumers: !values['no-consumers'],
    shardCount: intFlag('shards', values.shards, LOCAL_DEFAULTS.shardCount, 1),
    log: (m) => io.err(m),
  });
  const c = runtime.config;
  io.out(
    [
      `Tributary is running (ready in ${fmt(runtime.startupMs)} ms; data in ${dataDir})`,
      `  Ingest API   ${runtime.apiUrl}   POST /v1/events/{type}, GET /health`,
      `  API key      ${runtime.apiKey}`,
      runtime.consoleUrl ? `  Console      ${runtime.consoleUrl}` : '  Console      (disabled: --no-console)',
      `  Kinesis      ${c.endpoints!.kinesis}   stream "${c.streamName}"`,
      `  S3           ${c.endpoints!.s3}   buckets ${Object.values(c.buckets).join(', ')}`,
      runtime.database
        ? `  Postgres     ${runtime.database.url}${runtime.database.embedded ? '   (embedded PGlite)' : ''}   tributary db status`
        : '  Postgres     (disabled: --no-oltp)',
      '',
      `Try:  npx tributary produce --synthetic transactions --count 10000 --invalid-ratio 0.02`,
      'Stop: Ctrl-C',
    ].join('\n'),
  );

  let last = '';
  const ticker = setInterval(() => {
    const describe = (name: string, stats: ReturnType<typeof runtime.poller.stats>) =>
      `${name}: ${stats.map((s) => `${s.shardId.replace('shardId-', '#')} ${fmt(s.records)} records${s.failures ? `, ${s.failures} failed invocations` : ''}${s.onFailureBatches ? `, ${s.onFailureBatches} batches to on-failure` : ''}`).join(' | ')}`;
    const line = [
      describe('lake-writer', runtime.poller.stats()),
      ...(runtime.sinkPoller ? [describe('oltp-sink', runtime.sinkPoller.stats())] : []),
    ].join('  ·  ');
    if (line !== last) io.err(line);
    last = line;
  }, 5_000);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(ticker);
      io.err(`\n${signal}: stopping (finishing the current batch)…`);
      runtime.stop().then(
        () => resolve(0),
        (err: unknown) => {
          io.err(`error while stopping: ${String(err)}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
}
