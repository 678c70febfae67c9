import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { importService, ingestWriterDeps } from '../lib/composition.ts';
import path from 'node:path';
import { ExportKeyError } from '../lib/imports/errors.ts';
import { loadRawFile } from '../lib/imports/raw.ts';
import { parseExportKey } from '../lib/imports/registry.ts';
import type { ImportSummary } from '../lib/imports/service.ts';
import { commandConfig, fmt, intFlag, UsageError, type Io } from './common.ts';

export const importHelp = `tributary import <file> --table <tenant>/<table> --version <v> [options]
tributary import <file> --type <event type> [--json]
tributary import list|show <id>|approve <id>|reject <id> [options]

Table exports: uploads the file to exports/<tenant>/<table>/<version>/<file name> in the imports bucket, where its
import starts (tributary dev, or the deployed stack), and waits until its operations are applied to the table in
Postgres, then prints a summary. The table needs a definition in tables/<table>.json. Versions are compared as text;
one not after the last published version is refused (exit 1, with the reason). An import that would delete more than
the delete guard allows (TRIBUTARY_IMPORT_DELETE_GUARD, default 0.2) is held: the command returns at once with status
"held" and says how to approve it.

  --table T/N      tenant and table (tables/<N>.json)
  --version V      the export's version, e.g. 20201230_V0001 (letters, digits, '.', '_', '-')
  --no-wait        return once the file is uploaded (--json: {"id", "tenant", "table", "version", "status": "uploaded", "key"})
  --timeout S      give up waiting after S seconds (default 600)
  --json           one object: {"id", "tenant", "table", "version", "status", "ops": {"insert", "update", "delete"},
                   "unchanged", "rows", "applied"} — rows: the tenant's rows in the table once applied

Raw event files: --type loads a CSV (header line), JSON or NDJSON file, optionally gzip, of one event type through
the ingest path (as the API would take it); invalid rows are quarantined (stage import).
  --json           {"accepted": n, "rejected": n, "failed": n} (failed: the stream refused them; run it again)

  list             the newest imports (--table T/N for one table, --limit N, --json)
  show <id>        one import: status, counts, timings, errors with their lines (--json); exits 1 when it failed,
                   was refused or rejected
  approve <id>     approve a held import, then wait for it as above (--no-wait, --timeout, --json, --by NAME)
  reject <id>      reject a held import (--json, --by NAME)

  --data-dir D     the local stack's data directory (default .data)
`;

const tableFlag = (raw: string | undefined): { tenant: string; table: string } => {
  const m = raw ? /^([^/]+)\/([^/]+)$/.exec(raw) : null;
  if (!m)
    throw new UsageError(`--table must be <tenant>/<table>, e.g. acme/example; got ${JSON.stringify(raw ?? '')}.`);
  return { tenant: m[1]!, table: m[2]! };
};

/** The object the issue's scripts read (`--json`). */
const asJson = (s: ImportSummary) => ({
  id: s.id,
  tenant: s.tenant,
  table: s.table,
  version: s.version,
  status: s.status,
  ops: s.ops,
  unchanged: s.unchanged,
  rows: s.rows,
  applied: s.applied,
  ...(s.error ? { error: s.error } : {}),
});

function describe(s: ImportSummary): string[] {
  const lines = [
    `${s.tenant}/${s.table} version ${s.version}: ${s.status}${s.applied ? ' and applied' : ''}  (import ${s.id})`,
    `  ${fmt(s.ops.insert)} inserts, ${fmt(s.ops.update)} updates, ${fmt(s.ops.delete)} deletes, ${fmt(s.unchanged)} unchanged; ${fmt(s.rows)} rows in imports.${s.table} for ${s.tenant}`,
  ];
  if (s.startedAt && s.finishedAt)
    lines.push(
      `  ${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s from start to ${s.status}`,
    );
  if (s.decidedBy) lines.push(`  decided by ${s.decidedBy}`);
  if (s.error) lines.push(`  ${s.error}`);
  for (const b of s.badRows ?? [])
    lines.push(
      `  ${b.line !== undefined ? `line ${b.line}` : b.row !== undefined ? `row ${b.row}` : '·'}: ${b.problem}${b.text ? `  ${JSON.stringify(b.text.slice(0, 120))}` : ''}`,
    );
  if (s.status === 'held')
    lines.push(
      `  Approve it with \`tributary import approve ${s.id}\`, or reject it with \`tributary import reject ${s.id}\`.`,
    );
  return lines;
}

export async function importCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      table: { type: 'string' },
      version: { type: 'string' },
      type: { type: 'string' },
      'no-wait': { type: 'boolean' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      by: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const [first, second, ...extra] = positionals;
  if (!first) throw new UsageError('Give a file to import, or one of list, show <id>, approve <id>, reject <id>.');
  const config = commandConfig(values['data-dir']);
  const timeoutMs = intFlag('timeout', values.timeout, 600, 1) * 1000;
  const by = values.by ?? process.env.USER ?? 'cli';
  const print = (s: ImportSummary) => io.out(values.json ? JSON.stringify(asJson(s)) : describe(s).join('\n'));
  const ended = (s: ImportSummary) => (['failed', 'refused', 'rejected'].includes(s.status) ? 1 : 0);

  if (first === 'list' || first === 'show' || first === 'approve' || first === 'reject') {
    if (extra.length) throw new UsageError(`Unexpected ${JSON.stringify(extra[0])}.`);
    const service = importService(config);
    try {
      if (first === 'list') {
        const all = await service.list({
          ...(values.table ? tableFlag(values.table) : {}),
          limit: intFlag('limit', values.limit, 20, 1),
        });
        if (values.json) io.out(JSON.stringify(all.map(asJson)));
        else if (!all.length)
          io.out('No imports yet: `tributary import <file> --table <tenant>/<table> --version <v>`.');
        else
          for (const s of all)
            io.out(
              `${s.id}  ${s.tenant}/${s.table}  ${s.version.padEnd(16)} ${s.status.padEnd(9)} +${fmt(s.ops.insert)} ~${fmt(s.ops.update)} -${fmt(s.ops.delete)}  ${s.registeredAt.slice(0, 19).replace('T', ' ')}`,
            );
        return 0;
      }
      if (!second)
        throw new UsageError(`Say which import: tributary import ${first} <id> (\`tributary import list\`).`);
      if (first === 'show') {
        const s = await service.summary(second);
        print(s);
        return ended(s);
      }
      if (first === 'reject') {
        const s = await service.reject(second, by);
        print(s);
        return 0;
      }
      const approved = await service.approve(second, by);
      const s = values['no-wait'] ? approved : await follow(service, second, timeoutMs, io, !values.json);
      print(s);
      return ended(s);
    } finally {
      await service.close();
    }
  }

  if (second) throw new UsageError(`Unexpected ${JSON.stringify(second)}: import one file at a time.`);
  if (values.type) {
    if (values.table || values.version)
      throw new UsageError('Give --type for raw event files, or --table and --version for a table export, not both.');
    if (values['no-wait'] || values.timeout)
      throw new UsageError('--no-wait and --timeout are for table exports; a raw file is loaded while you wait.');
    // Named by its bytes and stamped with its modification time, so loading the same file again (after a failure, on
    // another day, by another path) puts the same events in the same partitions and they are kept once.
    let stamp: { source: string; receivedAt: string };
    try {
      stamp = {
        source: `file:${createHash('sha256').update(readFileSync(first)).digest('hex')}`,
        receivedAt: statSync(first).mtime.toISOString(),
      };
    } catch {
      throw new UsageError(`Cannot read ${first}: give the path of a raw event file.`);
    }
    const r = await loadRawFile(ingestWriterDeps(config), { type: values.type, file: first, ...stamp });
    if (values.json) io.out(JSON.stringify({ accepted: r.accepted, rejected: r.rejected, failed: r.failed }));
    else {
      io.out(
        `${r.type}: ${fmt(r.accepted)} accepted, ${fmt(r.rejected)} rejected (quarantined, stage import), ${fmt(r.failed)} failed`,
      );
      for (const e of r.firstErrors.slice(0, 10))
        io.out(
          `  line ${e.line}: ${e.reason ?? e.status} ${(e.errors ?? []).map((x) => `${x.path} ${x.message}`).join('; ')}`,
        );
    }
    return r.failed ? 1 : 0;
  }
  const to = tableFlag(values.table);
  if (!values.version) throw new UsageError("Give the export's version: --version <v> (e.g. 20201230_V0001).");
  try {
    parseExportKey(`exports/${to.tenant}/${to.table}/${values.version}/${path.basename(first)}`);
  } catch (err) {
    // The names given are the flags': a usage error, saying what they may hold.
    if (err instanceof ExportKeyError) throw new UsageError(err.message.replace(/ Drop exports at .*$/, ''));
    throw err;
  }
  const service = importService(config);
  try {
    const { id, key } = await service.drop(first, { ...to, version: values.version });
    if (values['no-wait']) {
      io.out(
        values.json
          ? JSON.stringify({ id, tenant: to.tenant, table: to.table, version: values.version, status: 'uploaded', key })
          : `Uploaded to ${key} (import ${id}); \`tributary import show ${id}\` follows it.`,
      );
      return 0;
    }
    const s = await follow(service, id, timeoutMs, io, !values.json);
    print(s);
    return ended(s);
  } finally {
    await service.close();
  }
}

/** Waits for an import, with a progress bar of its operations on a terminal. */
async function follow(
  service: ReturnType<typeof importService>,
  id: string,
  timeoutMs: number,
  io: Io,
  human: boolean,
): Promise<ImportSummary> {
  const bar =
    human && io.isTTY
      ? new cliProgress.SingleBar(
          { format: 'import [{bar}] {value}/{total} operations | {status}', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(0, 0, { status: 'waiting for the import to start' });
  try {
    return await service.wait(id, {
      timeoutMs,
      onProgress: (s) => {
        if (!bar || !s) return;
        const total = s.ops.insert + s.ops.update + s.ops.delete;
        bar.setTotal(total);
        bar.update(s.published, { status: s.status === 'published' ? 'applying' : s.status });
      },
    });
  } finally {
    bar?.stop();
  }
}
