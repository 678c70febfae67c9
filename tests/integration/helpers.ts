import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { awsClients } from '../../lib/aws/clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import type { QuarantineRecord } from '../../lib/quarantine/record.ts';
import { listAll, readJsonl } from '../../lib/aws/s3.ts';
import { mapLimit } from '../../lib/util/concurrency.ts';
import { startDev, type DevOptions, type DevRuntime } from '../../local/dev.ts';
import { buildEnvelope, eventIdOf } from '../../lib/envelope.ts';
import { lakeObjectName, lakePrefix } from '../../lib/layout/partition.ts';
import { produce } from '../../lib/produce/producer.ts';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import type { TributaryConfig } from '../../lib/config.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs the CLI (`bin/tributary.mjs`) from the repository with `env` added; resolves with its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['bin/tributary.mjs', ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export function tempDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `tributary-${name}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts the real local runtime on free ports with fast polling, for tests. */
export function startTestRuntime(dataDir: string, extra: Partial<DevOptions> = {}): Promise<DevRuntime> {
  return startDev({
    dataDir,
    ports: { api: 0, kinesis: 0, s3: 0, pg: 0 },
    console: false,
    // The OLTP sink only where a test asks for it (it starts a database per runtime).
    oltp: false,
    pollIntervalMs: 100,
    apiKey: 'test-key',
    ...extra,
    mapping: { maximumBatchingWindowInSeconds: 0.2, ...extra.mapping },
  });
}

export interface LakeContents {
  rows: Envelope[];
  keys: string[];
  quarantine: QuarantineRecord[];
  onFailure: number;
}

/**
 * Rows of objects already read, by endpoint, bucket, key and ETag (the MD5 of the object's bytes): a test polling the
 * lake reads each object once, not once per poll, so its polling does not slow the writer it waits for. The listing
 * is read fresh every time, so an object deleted or rewritten is seen as such.
 */
const readObjects = new Map<string, unknown[]>();

async function readAll<T>(
  config: TributaryConfig,
  bucket: string,
  prefix: string,
): Promise<{ keys: string[]; rows: T[] }> {
  const { s3 } = awsClients(config);
  const listed = await listAll(s3, bucket, prefix);
  const rows = await mapLimit(listed, 16, async (o) => {
    const id = `${config.endpoints?.s3 ?? ''}|${bucket}|${o.Key}|${o.ETag}`;
    let r = readObjects.get(id);
    if (!r) readObjects.set(id, (r = await readJsonl<T>(s3, bucket, o.Key!)));
    // A copy: a test may change what it was given.
    return structuredClone(r) as T[];
  });
  return { keys: listed.map((o) => o.Key!), rows: rows.flat() };
}

/** Reads every lake row and quarantine record through the S3 API. */
export async function readLake(config: TributaryConfig): Promise<LakeContents> {
  const { s3 } = awsClients(config);
  const lake = await readAll<Envelope>(config, config.buckets.lake, 'events/');
  const { rows: quarantine } = await readAll<QuarantineRecord>(config, config.buckets.quarantine, 'records/');
  const onFailure = (await listAll(s3, config.buckets.quarantine, 'aws/lambda/')).length;
  return { rows: lake.rows, keys: lake.keys, quarantine, onFailure };
}

/** Polls until `check` returns true, or fails with the last state after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 120_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Counts occurrences of each value; returns the ones seen more than once. */
export function duplicates(values: string[]): string[] {
  const seen = new Map<string, number>();
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
}

export async function post(rt: DevRuntime, type: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${rt.apiUrl}/v1/events/${type}`, {
    method: 'POST',
    headers: { 'x-api-key': rt.apiKey, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* keep empty */
  }
  return { status: res.status, json, text };
}

/** Sends `count` valid synthetic transactions through the API and returns their ids. */
export async function sendTransactions(rt: DevRuntime, count: number, seed: number): Promise<string[]> {
  const events = [...syntheticEvents('transactions', count, { seed })];
  const summary = await produce(
    events.map((e, index) => ({ text: JSON.stringify(e.value), index })),
    { endpoint: rt.apiUrl, apiKey: rt.apiKey, type: 'transactions' },
  );
  if (summary.accepted !== count) throw new Error(`expected ${count} accepted, got ${JSON.stringify(summary)}`);
  return events.map((e) => eventIdOf(defaultRegistry().get('transactions'), e.value)!);
}

/** A runtime slot for tests that start their own runtime: stopped, and its data removed, after each test. */
export function runtimePerTest(): { rt?: DevRuntime; dir: string } {
  const slot: { rt?: DevRuntime; dir: string } = { dir: '' };
  afterEach(async () => {
    await slot.rt?.stop();
    slot.rt = undefined;
    if (slot.dir) removeDir(slot.dir);
  });
  return slot;
}

/** Valid synthetic events of a type wrapped in envelopes as ingest wraps them (received at `receivedAt`). */
export function syntheticEnvelopes(
  type: string,
  count: number,
  seed: number,
  receivedAt = new Date().toISOString(),
): Envelope[] {
  const t = defaultRegistry().get(type);
  return [...syntheticEvents(type, count, { seed })].map((e) => {
    const r = buildEnvelope({ type: t, v: 1, data: e.value, receivedAt, source: 'producer' });
    if (!r.ok) throw new Error(`synthetic ${type} event is invalid: ${JSON.stringify(r.errors)}`);
    return r.envelope;
  });
}

let lakeSeq = 0;

/**
 * Lands envelopes in the lake as the lake writer does (its key layout, gzip JSONL, up to `perObject` lines per object,
 * a fresh sequence range per object), without the stream, so a suite can be about what readers and the compactor do.
 * Returns the keys written, in order.
 */
export async function landInLake(config: TributaryConfig, envelopes: Envelope[], perObject = 40): Promise<string[]> {
  const registry = defaultRegistry();
  const groups = new Map<string, string[]>();
  for (const e of envelopes) {
    const t = registry.get(e.type);
    const prefix = lakePrefix(
      e.type,
      e.event_time,
      t.partitions.map((p) => ({ name: p.name, value: p.get(e.data) })),
    );
    groups.set(prefix, [...(groups.get(prefix) ?? []), JSON.stringify(e)]);
  }
  const { s3 } = awsClients(config);
  const keys: string[] = [];
  for (const [prefix, lines] of groups) {
    for (let i = 0; i < lines.length; i += perObject) {
      const chunk = lines.slice(i, i + perObject);
      const first = ++lakeSeq * 1000;
      const key = `${prefix}/${lakeObjectName('shardId-000000000000', String(first), String(first + chunk.length))}`;
      await s3.send(
        new PutObjectCommand({ Bucket: config.buckets.lake, Key: key, Body: gzipSync(`${chunk.join('\n')}\n`) }),
      );
      keys.push(key);
    }
  }
  return keys;
}
