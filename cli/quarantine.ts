import os from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { parseFilter, type QuarantineFilter } from '../lib/quarantine/filter.ts';
import type { Actor, QuarantineService } from '../lib/quarantine/service.ts';
import { listItem } from '../lib/quarantine/requests.ts';
import { quarantineService } from '../lib/composition.ts';
import { commandConfig, fmt, intFlag, UsageError, type Io } from './common.ts';

const FILTER_OPTIONS = {
  type: { type: 'string' },
  stage: { type: 'string' },
  reason: { type: 'string' },
  status: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  text: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const FILTER_HELP = `Filters (all optional, all must match):
  --type T         event type
  --stage S        ingest, lake-writer, oltp-sink, redrive, import
  --reason R       schema_violation, malformed_json, unknown_type, too_large, invalid_envelope, processing_error, db_rejected, export_refused
  --status S       open (default), redriven, discarded, all
  --from T --to T  quarantined at or after / before (ISO date or date-time, UTC)
  --text Q         text in the payload, an error path or an error message (case-insensitive)`;

export const quarantineHelp = `tributary quarantine <list|show|discard|export> [options]

  list [filters] [--limit N] [--offset N] [--json]   newest-first page of quarantined records
  show <qid> [--json]                                one record: errors, payload, status, schema version
  discard <qid...> | --all-matching [filters] --why "reason for the audit log"
  export [filters] [--format jsonl|csv]              every match to stdout

${FILTER_HELP}
  --data-dir DIR   the local runtime's data directory
`;

export const redriveHelp = `tributary redrive <qid...> | --all-matching [filters] [--rate N] [--json]

Puts quarantined records back on the stream after re-validating them against their type's latest schema: each keeps
its id and carries the envelope's "redrive" block; one that fails again is quarantined anew (stage redrive) with the
new errors. A record is re-driven at most once per job; records already re-driven or discarded are skipped. Every
outcome is in the ledger and the job in the audit log (quarantine bucket).

  --rate N         records per second (default 500; never above 1,000 per open shard)
  --all-matching   every open record matching the filters
${FILTER_HELP}
  --data-dir DIR   the local runtime's data directory
`;

function filterOf(values: Record<string, unknown>): QuarantineFilter {
  const get = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return parseFilter({
    type: get('type'),
    stage: get('stage'),
    reason: get('reason'),
    status: get('status'),
    from: get('from'),
    to: get('to'),
    q: get('text'),
  });
}

function cliActor(): Actor {
  return { by: `cli:${os.userInfo().username}`, role: 'operator' };
}

function service(values: Record<string, unknown>): QuarantineService {
  return quarantineService(commandConfig(values['data-dir'] as string | undefined));
}

/** `{qids}` from the positionals, or `{filter}` with --all-matching; exactly one of them. */
function selection(
  positionals: string[],
  values: Record<string, unknown>,
): { qids: string[] } | { filter: QuarantineFilter } {
  if (values['all-matching']) {
    if (positionals.length) throw new UsageError('Give record ids or --all-matching with filters, not both.');
    return { filter: filterOf(values) };
  }
  if (!positionals.length)
    throw new UsageError(
      'Give the qids of the records (from `tributary quarantine list`), or --all-matching with filters.',
    );
  return { qids: positionals };
}

export async function quarantineCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...FILTER_OPTIONS,
      limit: { type: 'string' },
      offset: { type: 'string' },
      why: { type: 'string' },
      'all-matching': { type: 'boolean' },
      format: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const svc = service(values);
  switch (sub) {
    case 'list': {
      const page = await svc.list(filterOf(values), {
        limit: intFlag('limit', values.limit, 50, 1),
        offset: intFlag('offset', values.offset, 0),
      });
      if (values.json) {
        io.out(JSON.stringify({ total: page.total, offset: page.offset, items: page.items.map(listItem) }));
        return 0;
      }
      io.out(
        `${fmt(page.total)} matching${page.total ? `, showing ${page.offset + 1}–${page.offset + page.items.length}` : ''}`,
      );
      for (const e of page.items.map(listItem)) {
        io.out(
          `${e.qid}  ${e.quarantined_at}  ${(e.type ?? '-').padEnd(12)} ${e.stage.padEnd(11)} ${e.reason.padEnd(16)} ${e.status.padEnd(9)} ${e.firstError ? `${e.firstError.path} ${e.firstError.message}` : ''}`,
        );
      }
      return 0;
    }
    case 'show': {
      if (positionals.length !== 1) throw new UsageError('Give one qid: tributary quarantine show <qid>.');
      const d = await svc.detail(positionals[0]!);
      if (values.json) {
        io.out(
          JSON.stringify({
            qid: d.entry.qid,
            status: d.entry.status,
            last: d.entry.last,
            record: d.entry.record,
            event: d.source.event,
            type: d.source.type,
          }),
        );
        return 0;
      }
      const r = d.entry.record;
      io.out(
        `${d.entry.qid}  ${d.entry.status}${d.entry.last ? ` (${d.entry.last.outcome} by ${d.entry.last.by}, job ${d.entry.last.job})` : ''}`,
      );
      io.out(
        `id ${r.id} · ${d.source.type ?? 'no type'}${d.source.v !== undefined ? ` v${d.source.v}` : ''} · ${r.stage} · ${r.reason} · attempts ${r.attempts} · quarantined ${r.quarantined_at}`,
      );
      for (const e of r.errors) io.out(`  ${e.path}  ${e.keyword}  ${e.message}`);
      io.out(d.source.event);
      return 0;
    }
    case 'discard': {
      if (!values.why) throw new UsageError('Discarding needs --why "the reason" (it goes in the audit log).');
      const res = await svc.discard({ ...selection(positionals, values), reason: values.why }, cliActor());
      io.out(
        values.json
          ? JSON.stringify(res)
          : `Discarded ${fmt(res.discarded)} records${res.skipped ? `; ${fmt(res.skipped)} were not open and were left as they are` : ''}.`,
      );
      return 0;
    }
    case 'export': {
      const format = values.format ?? 'jsonl';
      if (format !== 'jsonl' && format !== 'csv')
        throw new UsageError(`--format must be jsonl or csv, got ${JSON.stringify(format)}.`);
      for await (const chunk of svc.export(filterOf(values), format, cliActor())) process.stdout.write(chunk);
      return 0;
    }
    default:
      throw new UsageError(
        sub ? `Unknown quarantine command ${JSON.stringify(sub)}.` : 'Say what to do: list, show, discard or export.',
      );
  }
}

export async function redriveCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...FILTER_OPTIONS, rate: { type: 'string' }, 'all-matching': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const svc = service(values);
  const job = await svc.startRedrive(
    {
      ...selection(positionals, values),
      ...(values.rate !== undefined ? { rate: intFlag('rate', values.rate, 500, 1) } : {}),
    },
    cliActor(),
  );
  if (job.message && !values.json) io.err(job.message);
  const bar =
    io.isTTY && !values.json
      ? new cliProgress.SingleBar(
          {
            format:
              're-driving [{bar}] {value}/{total} · {accepted} accepted · {failed} failed again · {skipped} skipped',
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(job.total, 0, { accepted: 0, failed: 0, skipped: 0 });
  const timer = bar
    ? setInterval(() => {
        void svc
          .job(job.id, { limit: 1 })
          .then(({ state: s }) =>
            bar.update(s.processed, { accepted: s.accepted, failed: s.failed, skipped: s.skipped + s.errors }),
          );
      }, 250)
    : undefined;
  const done = await svc.wait(job.id).finally(() => {
    if (timer) clearInterval(timer);
    bar?.stop();
  });
  if (values.json) io.out(JSON.stringify(done));
  else
    io.out(
      `Job ${done.id} ${done.status}: ${fmt(done.accepted)} back on the stream, ${fmt(done.failed)} failed again (quarantined with stage redrive), ` +
        `${fmt(done.skipped)} skipped${done.errors ? `, ${fmt(done.errors)} refused by the stream (still open)` : ''}.${done.message ? ` ${done.message}` : ''}`,
    );
  return done.status === 'succeeded' ? 0 : 1;
}
