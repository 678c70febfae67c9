import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sleep } from '../util/time.ts';
import { migrationVersion } from '../oltp/migrations.ts';
import { readingDatabase } from '../oltp/db.ts';
import { importRows } from './apply.ts';
import { ImportNotFoundError, ImportRequestError } from './errors.ts';
import { listRawFiles, type RawFile } from './raw-files.ts';
import {
  EXPORTS_PREFIX,
  type ImportFile,
  type ImportRegistry,
  importFileId,
  parseExportKey,
  type TableState,
} from './registry.ts';
import type { TableDef, TableRegistry } from './tables.ts';

/*
 * What an operator does with imports, over the registry (CLI, console): drop an export where the bucket's
 * notification starts its import, follow it to the end, list and show imports, approve or reject a held one. An
 * import's `applied` and `rows` are read off its target table, where the applier puts its operations.
 */

/** One import as the CLI's `--json` and the console show it. */
export interface ImportSummary {
  id: string;
  tenant: string;
  table: string;
  version: string;
  key: string;
  status: ImportFile['status'];
  ops: { insert: number; update: number; delete: number };
  unchanged: number;
  /** The tenant's rows in the target table (not deleted), as the applier has them now. */
  rows: number;
  /**
   * The applier has gone past every operation of this version (they are in the table, or in the quarantine when the
   * table refused them): read off its progress per shard against where the job put them.
   */
  applied: boolean;
  /** Operations on the stream so far. */
  published: number;
  error?: string;
  badRows?: ImportFile['badRows'];
  decidedBy?: string;
  registeredAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** One import as the console's Imports page shows it: the summary without the table's rows, and its timings. */
export interface ImportEntry extends Omit<ImportSummary, 'rows'> {
  size: number;
  /** The published version its delta was computed against ('' for a table's first export). */
  base?: string;
  committedAt?: string;
  decidedAt?: string;
  /** The fencing token of the job that last ran it. */
  fence?: number;
}

/** A tenant/table on the Imports page: its definition, what it published, its lease, its newest imports. */
export interface ImportTableView extends Omit<TableState, 'files'> {
  /** Absent when its definition was removed from tables/ after files were dropped. */
  definition?: Pick<TableDef, 'columns' | 'primaryKey' | 'format'>;
  /** The tenant's rows in the target table now. */
  rows: number;
  imports: ImportEntry[];
}

/** Everything the Imports page shows, read at `at`. */
export interface ImportsOverview {
  at: string;
  /** Why nothing is listed when the database is not migrated for imports yet. */
  notice?: string;
  /** Every defined table (what an upload may target), whether or not anything was dropped for it. */
  definitions: { name: string; description?: string; columns: number; primaryKey: string[] }[];
  tables: ImportTableView[];
  raw: RawFile[];
}

/**
 * What a viewer sees of a refused export's rows and error: an export's columns may hold anything (card numbers as
 * often as not), and the engines quote the values they could not read, so only operators see them.
 */
export const ROW_TEXT_WITHHELD = '(withheld: an operator can see it)';

/**
 * The overview as a viewer sees it: each refused row keeps its line and row number, its text and problem withheld;
 * a refused export's error (which quotes its bad rows) is withheld too.
 */
export function withRowTextWithheld(o: ImportsOverview): ImportsOverview {
  return {
    ...o,
    tables: o.tables.map((t) => ({
      ...t,
      imports: t.imports.map((i) => ({
        ...i,
        ...(i.badRows
          ? {
              badRows: i.badRows.map((b) => ({
                ...b,
                problem: ROW_TEXT_WITHHELD,
                ...(b.text === undefined ? {} : { text: ROW_TEXT_WITHHELD }),
              })),
            }
          : {}),
        ...(i.error && i.status === 'refused' ? { error: `Refused as a whole. ${ROW_TEXT_WITHHELD}` } : {}),
      })),
    })),
  };
}

/** An import as the page and the CLI see it, `applied` read off the applier's progress beforehand. */
function entryOf(f: ImportFile, applied: boolean): ImportEntry {
  const c = f.counts;
  return {
    id: f.id,
    tenant: f.tenant,
    table: f.table,
    version: f.version,
    key: f.key,
    size: f.size,
    status: f.status,
    ops: { insert: c?.insert ?? 0, update: c?.update ?? 0, delete: c?.delete ?? 0 },
    unchanged: c?.unchanged ?? 0,
    ...(c?.base !== undefined ? { base: c.base } : {}),
    applied: f.status === 'published' && applied,
    published: f.publishedOps,
    ...(f.error ? { error: f.error } : {}),
    ...(f.badRows ? { badRows: f.badRows } : {}),
    ...(f.fence !== undefined ? { fence: f.fence } : {}),
    ...(f.decidedBy ? { decidedBy: f.decidedBy } : {}),
    ...(f.decidedAt ? { decidedAt: f.decidedAt } : {}),
    registeredAt: f.registeredAt,
    ...(f.startedAt ? { startedAt: f.startedAt } : {}),
    ...(f.committedAt ? { committedAt: f.committedAt } : {}),
    ...(f.finishedAt ? { finishedAt: f.finishedAt } : {}),
  };
}

/** The migration that completes the registry's tables (raw_file, put_sequences). */
const IMPORTS_MIGRATION = 8;

/** Statuses an import waits in for someone else: it will not move on by itself. */
const SETTLED = new Set<ImportFile['status']>(['held', 'failed', 'refused', 'rejected']);

export interface ImportServiceDeps {
  registry: ImportRegistry;
  tables: TableRegistry;
  s3: S3Client;
  importsBucket: string;
  /** Between looks while waiting (default 500 ms). */
  pollMs?: number;
}

export class ImportService {
  constructor(private readonly deps: ImportServiceDeps) {}

  /**
   * Drops an export file where its import starts: `exports/<tenant>/<table>/<version>/<file name>`. Refused before
   * anything is uploaded when the table has no definition or the names are not ones an export can have.
   *
   * @throws UnknownTableError (where to add the definition), ExportKeyError, ImportRequestError
   */
  async drop(
    file: string,
    to: { tenant: string; table: string; version: string },
  ): Promise<{ id: string; key: string }> {
    this.deps.tables.get(to.table);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new ImportRequestError(`Cannot read ${file}: give the path of an export file.`);
    }
    const key = `${EXPORTS_PREFIX}${to.tenant}/${to.table}/${to.version}/${path.basename(file)}`;
    parseExportKey(key);
    const put = await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.importsBucket,
        Key: key,
        Body: readFileSync(file),
        ContentLength: size,
      }),
    );
    return { id: importFileId(key, put.ETag ?? ''), key };
  }

  /** An import as it stands, with what the target table holds of it. @throws ImportNotFoundError */
  async summary(id: string): Promise<ImportSummary> {
    return this.#summary(await this.deps.registry.get(id));
  }

  async #summary(f: ImportFile): Promise<ImportSummary> {
    const applied = f.status === 'published' && (await this.deps.registry.appliedOf([f])).has(f.id);
    const { size: _size, base: _base, committedAt: _c, decidedAt: _d, fence: _f, ...entry } = entryOf(f, applied);
    const def = this.deps.tables.has(f.table) ? this.deps.tables.get(f.table) : undefined;
    return { ...entry, rows: def ? await importRows(this.deps.registry.pool, def, f.tenant) : 0 };
  }

  /**
   * The Imports page: every defined table, each tenant/table files were dropped for with its newest `perTable`
   * imports, and the newest `raw` raw-file loads.
   */
  async overview(options: { perTable?: number; raw?: number } = {}): Promise<ImportsOverview> {
    return readingDatabase(() => this.#overview(options));
  }

  async #overview(options: { perTable?: number; raw?: number }): Promise<ImportsOverview> {
    const { registry, tables } = this.deps;
    const migrated = await migrationVersion(registry.pool);
    const ready = migrated >= IMPORTS_MIGRATION;
    const [states, raw] = ready
      ? await Promise.all([
          registry.tableStates(options.perTable ?? 20),
          listRawFiles(registry.pool, options.raw ?? 50),
        ])
      : [[], []];
    const applied = await registry.appliedOf(states.flatMap((s) => s.files));
    return {
      at: new Date().toISOString(),
      ...(ready
        ? {}
        : {
            notice: `The database is at migration ${migrated}; imports need ${IMPORTS_MIGRATION}. The first import job or \`tributary db migrate\` migrates it.`,
          }),
      definitions: tables.names().map((name) => {
        const d = tables.get(name);
        return {
          name,
          ...(d.description ? { description: d.description } : {}),
          columns: d.columns.length,
          primaryKey: d.primaryKey,
        };
      }),
      tables: await Promise.all(
        states.map(async ({ files, ...state }) => {
          const def = tables.has(state.table) ? tables.get(state.table) : undefined;
          return {
            ...state,
            ...(def ? { definition: { columns: def.columns, primaryKey: def.primaryKey, format: def.format } } : {}),
            rows: def ? await importRows(registry.pool, def, state.tenant) : 0,
            imports: files.map((f) => entryOf(f, applied.has(f.id))),
          };
        }),
      ),
      raw,
    };
  }

  /** The newest imports first (of one tenant/table when given). */
  async list(filter: { tenant?: string; table?: string; limit?: number } = {}): Promise<ImportSummary[]> {
    const files = await this.deps.registry.list(filter);
    return Promise.all(files.map((f) => this.#summary(f)));
  }

  /**
   * Waits until the import needs nobody else — applied to its table, or held, refused, failed, rejected — and returns
   * it. A file not registered yet (its notification on the way) is waited for too.
   *
   * @throws ImportRequestError after `timeoutMs` (504), saying where it stands, or at once (409) when it waits behind a
   *   held import.
   */
  async wait(
    id: string,
    options: { timeoutMs?: number; onProgress?: (s: ImportSummary | undefined) => void } = {},
  ): Promise<ImportSummary> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      let s: ImportSummary | undefined;
      try {
        s = await this.summary(id);
      } catch (err) {
        if (!(err instanceof ImportNotFoundError)) throw err;
      }
      options.onProgress?.(s);
      if (s && (SETTLED.has(s.status) || (s.status === 'published' && s.applied))) return s;
      // Queued behind a held export of the same table: it cannot start until someone decides on that one.
      if (s?.status === 'queued') {
        const held = (await this.deps.registry.list({ tenant: s.tenant, table: s.table })).find(
          (f) => f.status === 'held',
        );
        if (held)
          throw new ImportRequestError(
            `Import ${id} waits behind held import ${held.id} (version ${held.version}) of ${s.tenant}/${s.table}: \`tributary import approve ${held.id}\` or \`tributary import reject ${held.id}\`, and it goes on.`,
            409,
          );
      }
      if (Date.now() >= deadline)
        throw new ImportRequestError(
          s
            ? `Import ${id} is still ${s.status}${s.status === 'published' ? ' (its operations are being applied)' : ''} after ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s; \`tributary import show ${id}\` follows it.`
            : `Import ${id} was not registered within ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s: is \`tributary dev\` running (or, in AWS, the imports bucket's notification)?`,
          504,
        );
      await sleep(this.deps.pollMs ?? 500);
    }
  }

  /** Approves a held import (it is queued again and publishes without the delete guard). */
  async approve(id: string, by: string): Promise<ImportSummary> {
    return this.#summary(await this.deps.registry.decide(id, 'approve', by));
  }

  /** Rejects a held import (final; later exports go on from the last published one). */
  async reject(id: string, by: string): Promise<ImportSummary> {
    return this.#summary(await this.deps.registry.decide(id, 'reject', by));
  }
}
