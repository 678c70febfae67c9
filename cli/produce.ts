import { createReadStream, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { readSettings } from '../lib/config.ts';
import { produce, type OutgoingEvent, type ProduceSummary } from '../lib/produce/producer.ts';
import { readEventsFromFile, detectFormat, type FileFormat } from '../lib/produce/readers.ts';
import { syntheticEvents, SYNTHETIC_TYPES } from '../lib/produce/synthetic.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import { UsageError, commandConfig, dataDirOf, fmt, intFlag, numberFlag, resolveApiKey, type Io } from './common.ts';

export const produceHelp = `tributary produce <file> --type <type> [options]
tributary produce --synthetic <type> --count <n> [--invalid-ratio <r>] [--seed <s>] [options]

Sends events to the ingest API. Files: CSV with a header row (values coerced by the type's schema: numbers, booleans,
"NA"/empty → null, "nan" → null where the field holds no text; card numbers keep every digit), a JSON object, a JSON
array, or NDJSON.

Options:
  --type <type>          event type (${SYNTHETIC_TYPES.join(', ')})
  --format <f>           csv | json | ndjson (default: from the extension / content)
  --synthetic <type>     generate events instead of reading a file
  --count <n>            synthetic events to generate (default 1000)
  --invalid-ratio <r>    share of synthetic events that are invalid, 0..1 (default 0)
  --seed <s>             seed of the generator (default 1)
  --rate <n>             events per second (default: as fast as the API takes them)
  --batch <n>            events per request, ≤ 500 (default 500)
  --concurrency <n>      requests in flight (default 4)
  --endpoint <url>       ingest API (default TRIBUTARY_API_URL, else the API of the tributary dev running on the
                         data directory, else http://127.0.0.1:4000)
  --api-key <key>        API key (default TRIBUTARY_API_KEY or the key of \`tributary dev\`)
  --json                 print the summary as JSON
`;

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

export async function produceCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      type: { type: 'string', short: 't' },
      format: { type: 'string' },
      synthetic: { type: 'string' },
      count: { type: 'string', short: 'n' },
      'invalid-ratio': { type: 'string' },
      seed: { type: 'string' },
      rate: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      endpoint: { type: 'string' },
      'api-key': { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const registry = defaultRegistry();
  const file = positionals[0];
  if (positionals.length > 1) throw new UsageError(`produce takes one file, got ${positionals.length}.`);
  if (!file && !values.synthetic)
    throw new UsageError(
      'Give a file to send (tributary produce events.csv --type transactions) or --synthetic <type>.',
    );
  if (file && values.synthetic) throw new UsageError('Give either a file or --synthetic, not both.');
  const type = values.synthetic ?? values.type;
  if (!type) throw new UsageError(`--type is required; types: ${registry.names().join(', ')}.`);
  if (!registry.has(type))
    throw new UsageError(`Unknown type ${JSON.stringify(type)}; types: ${registry.names().join(', ')}.`);
  if (values.format && !['csv', 'json', 'ndjson'].includes(values.format))
    throw new UsageError('--format must be csv, json or ndjson.');
  if (file && !existsSync(file)) throw new UsageError(`File not found: ${file}`);

  // The ingest API of the stack running on the data directory (lib/config.ts runningStack), unless told otherwise.
  const config = commandConfig(values['data-dir']);
  const endpoint = values.endpoint ?? readSettings().TRIBUTARY_API_URL ?? `http://${config.host}:${config.ports.api}`;
  const apiKey = resolveApiKey(values['api-key'], dataDirOf(values['data-dir']));
  const batch = intFlag('batch', values.batch, 500, 1);
  if (batch > 500) throw new UsageError('--batch must be at most 500 (the API limit per request).');
  const rate = numberFlag('rate', values.rate, 0, 0, 10_000_000);
  const concurrency = intFlag('concurrency', values.concurrency, 4, 1);

  let total: number | undefined;
  let events: AsyncIterable<OutgoingEvent> | Iterable<OutgoingEvent>;
  if (values.synthetic) {
    const count = intFlag('count', values.count, 1000, 0);
    const invalidRatio = numberFlag('invalid-ratio', values['invalid-ratio'], 0, 0, 1);
    const seed = intFlag('seed', values.seed, 1, 0);
    total = count;
    events = (function* () {
      let index = 0;
      for (const e of syntheticEvents(type, count, { invalidRatio, seed }))
        yield { text: e.raw ?? JSON.stringify(e.value), index: index++ };
    })();
  } else {
    const format = (values.format as FileFormat | undefined) ?? (await detectFormat(file!));
    const sv = registry.version(type);
    const lines = format === 'json' ? undefined : await countLines(file!);
    total = lines === undefined ? undefined : format === 'csv' ? Math.max(0, lines - 1) : lines;
    events = (async function* () {
      let index = 0;
      for await (const e of readEventsFromFile(file!, sv, format)) {
        yield { text: e.raw ?? JSON.stringify(e.value), index: index++, line: e.line };
      }
    })();
  }

  const showBar = io.isTTY && !values.json;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: `${type} [{bar}] {value}/{total} events | {accepted} accepted, {rejected} rejected, {failed} failed | {eta_formatted} left`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total ?? 0, 0, { accepted: 0, rejected: 0, failed: 0 });
  let summary: ProduceSummary;
  try {
    summary = await produce(events, {
      endpoint,
      apiKey,
      type,
      batch,
      rate,
      concurrency,
      onProgress: (p) => {
        const done = p.accepted + p.rejected + p.failed;
        if (bar && total !== undefined && done > total) bar.setTotal(done);
        bar?.update(done, p);
      },
    });
  } catch (err) {
    bar?.stop();
    const partial = (err as { summary?: ProduceSummary }).summary;
    if (values.json) io.out(JSON.stringify({ ...(partial ?? {}), error: (err as Error).message }));
    else {
      io.err(`error: ${(err as Error).message}`);
      if (partial)
        io.err(
          `(before stopping: ${fmt(partial.accepted)} accepted, ${fmt(partial.rejected)} rejected, ${fmt(partial.failed)} not sent)`,
        );
    }
    return 1;
  }
  bar?.stop();
  if (values.json) {
    io.out(JSON.stringify(summary));
  } else {
    io.out(
      `${summary.failed ? '✖' : '✔'} ${type}: ${fmt(summary.accepted)} accepted, ${fmt(summary.rejected)} rejected (quarantined), ${fmt(summary.failed)} failed — ${fmt(summary.sent)} events in ${summary.seconds.toFixed(1)} s (${fmt(summary.eventsPerSecond)}/s)`,
    );
    if (summary.firstErrors.length) {
      io.out('First errors:');
      for (const e of summary.firstErrors.slice(0, 10)) {
        const where = e.line !== undefined ? `line ${e.line}` : `event ${e.index + 1}`;
        const detail = (e.errors ?? []).map((x) => `${x.path} ${x.message}`).join('; ');
        io.out(
          `  ${where} [${e.status}${e.reason ? `: ${e.reason}` : ''}] ${e.id ? `id ${e.id.length > 40 ? `${e.id.slice(0, 40)}…` : e.id}: ` : ''}${detail.length > 300 ? `${detail.slice(0, 300)}…` : detail}`,
        );
      }
    }
  }
  return summary.failed ? 1 : 0;
}
