import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsClients, createAwsClients } from '../../lib/aws/clients.ts';
import { deleteKeys } from '../../lib/aws/s3.ts';
import { manifestKey } from '../../lib/layout/partition.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { compactLake } from '../../lib/compact/compact.ts';
import { repairMarkerKey } from '../../lib/compact/repair.ts';
import { CompactionError } from '../../lib/compact/types.ts';
import { logger } from '../../lib/observability.ts';
import { redriveSource } from '../../lib/quarantine/redrive-prepare.ts';
import type { QueryService } from '../../lib/query/service.ts';
import { compactorDeps, queryService } from '../../lib/composition.ts';
import { listAll, readJsonl } from '../../lib/aws/s3.ts';
import type { QuarantineRecord } from '../../lib/quarantine/record.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { handler } from '../../functions/compactor/handler.ts';
import { landInLake, removeDir, startTestRuntime, syntheticEnvelopes, tempDir } from './helpers.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const BEFORE = '2026-02-01T00';
const DAYS = ['2026-01-10', '2026-01-11', '2026-01-12'];

/** Transactions at a fixed hour of a day, received then (data written before ingest refused lone surrogates). */
function dayOf(day: string, count: number, seed: number): Envelope[] {
  return syntheticEnvelopes('transactions', count, seed, `${day}T10:30:00.000Z`).map((e, i) => {
    const at = `${day}T10:${String(i % 60).padStart(2, '0')}:00.000Z`;
    return {
      ...e,
      event_time: at,
      data: { ...(e.data as object), trans_date_trans_time: `${day} 10:${String(i % 60).padStart(2, '0')}:00` },
    };
  });
}

describe('compaction and queries around an object DuckDB cannot read', () => {
  let rt: DevRuntime;
  let dir: string;
  let svc: QueryService;
  const good = new Map<string, Envelope[]>();
  let bad: Envelope;
  let badKey: string;
  let neighbourKey: string;
  const lakeKeys = async (prefix: string) =>
    (await listAll(awsClients(rt.config).s3, rt.config.buckets.lake, prefix)).map((o) => o.Key!);
  const count = async (day: string) =>
    (await svc.run({ sql: `SELECT count(*) AS n FROM transactions WHERE dt = '${day}'` })).rows[0]![0];
  /** A client that fails (once) the commands `fail` picks, as a crash or a read that came too early would. */
  const client = (fail: (command: string, key: string | undefined) => Error | undefined) => {
    const c = createAwsClients(rt.config).s3;
    let armed = true;
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const e = armed ? fail(context.commandName ?? '', (args.input as { Key?: string }).Key) : undefined;
        if (e) {
          armed = false;
          throw e;
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    return c;
  };

  beforeAll(async () => {
    dir = tempDir('compact-unreadable');
    rt = await startTestRuntime(dir, { consumers: false });
    svc = queryService(rt.config, { rowLimit: 10_000, maxUnfilteredScanBytes: 1e12 });
    for (const [i, day] of DAYS.entries()) {
      good.set(day, dayOf(day, 30, i + 1));
      await landInLake(rt.config, good.get(day)!, 10);
    }
    // One more object in the middle day's hour: a good line, a line with a lone surrogate (JSON.stringify writes it as
    // the escape "\ud800", as the lake writer did before ingest refused it), another good line.
    const [a, b, c] = dayOf(DAYS[1]!, 3, 99);
    bad = { ...b!, data: { ...(b!.data as object), merchant: 'fraud_Bad\ud800Merchant' } };
    badKey = (await landInLake(rt.config, [a!, bad, c!]))[0]!;
    good.get(DAYS[1]!)!.push(a!, c!);
    neighbourKey = (await lakeKeys(`events/transactions/dt=${DAYS[1]}/`)).find((k) => k !== badKey)!;
  }, 240_000);

  afterAll(async () => {
    await svc?.deps.engine.close();
    await rt?.stop();
    removeDir(dir);
  });

  it('queries of other days read while one day holds an unreadable object; that day fails naming the object', async () => {
    expect(await count(DAYS[0]!)).toBe(30);
    expect(await count(DAYS[2]!)).toBe(30);
    const started = await svc.start({ sql: `SELECT count(*) FROM transactions WHERE dt = '${DAYS[1]}'` });
    const info = await svc.wait(started.id);
    expect(info.state).toBe('FAILED');
    expect(info.error).toContain(badKey);
    expect(info.error).toMatch(/no low surrogate in string/);
  });

  it('compacts every other partition-hour and the readable objects beside it, reports the object, and fails the scheduled run', async () => {
    const result = await compactLake(compactorDeps(rt.config), { before: BEFORE });
    expect(result.failed).toEqual([]);
    expect(result.unreadable).toEqual([
      {
        table: 'transactions',
        key: badKey,
        error: expect.stringMatching(
          new RegExp(
            `^Invalid Input Error: Malformed JSON in file "${badKey}", at byte \\d+ in line \\d+: no low surrogate in string`,
          ),
        ),
      },
    ]);
    expect(result).toMatchObject({ partitions: 3, parquetObjects: 3, rows: 90, quarantined: 0 });
    // Only the unreadable object is left as JSONL, the days before and after it are Parquet, and so is its neighbour.
    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([badKey]);
    expect(await lakeKeys(`events/transactions/dt=${DAYS[1]}/`)).not.toContain(neighbourKey);
    expect((await lakeKeys('compacted/')).filter((k) => k.endsWith('.parquet')).map((k) => k.split('/')[2])).toEqual(
      DAYS.map((d) => `dt=${d}`),
    );
    expect(await count(DAYS[0]!)).toBe(30);
    expect(await count(DAYS[2]!)).toBe(30);

    // The next run is not blocked and tries the object again; the scheduled function fails after the run, logs the
    // object and counts it (CompactionUnreadableObjects), so its error alarm fires.
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const saved = { ...process.env };
    Object.assign(process.env, {
      TRIBUTARY_S3_ENDPOINT: rt.config.endpoints!.s3,
      TRIBUTARY_KINESIS_ENDPOINT: rt.config.endpoints!.kinesis,
    });
    try {
      const err = await handler({ time: '2026-02-01T01:00:00Z' } as Parameters<typeof handler>[0]).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CompactionError);
      expect((err as CompactionError).code).toBe('compaction_incomplete');
      expect((err as Error).message).toContain(
        `left 0 partition-hours uncompacted and 1 unreadable objects as JSONL (first: ${badKey}: Invalid Input Error`,
      );
      expect(errors).toHaveBeenCalledWith(
        expect.stringMatching(/quarantine-unreadable/),
        expect.objectContaining({ key: badKey, table: 'transactions' }),
      );
    } finally {
      process.env = saved;
      errors.mockRestore();
    }
    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([badKey]);
  }, 240_000);

  it('tributary compact exits 1 and says which object and how to repair it', async () => {
    const env = {
      ...process.env,
      TRIBUTARY_S3_ENDPOINT: rt.config.endpoints!.s3,
      TRIBUTARY_KINESIS_ENDPOINT: rt.config.endpoints!.kinesis,
      TRIBUTARY_DATA_DIR: dir,
    };
    const json = await exec(process.execPath, ['bin/tributary.mjs', 'compact', '--before', BEFORE, '--json'], {
      cwd: root,
      env,
    }).catch((e: { code: number; stdout: string }) => e);
    expect((json as { code: number }).code).toBe(1);
    expect(JSON.parse((json as { stdout: string }).stdout)).toMatchObject({
      partitions: 1,
      parquetObjects: 0,
      unreadable: [{ key: badKey }],
    });
    const human = await exec(process.execPath, ['bin/tributary.mjs', 'compact', '--before', BEFORE], {
      cwd: root,
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((human as { code: number }).code).toBe(1);
    expect((human as { stderr: string }).stderr).toContain('1 objects DuckDB cannot read were left as JSONL');
    expect((human as { stderr: string }).stderr).toContain('`tributary compact --quarantine-unreadable`');
    expect((human as { stderr: string }).stderr).toContain(`  ${badKey}: Invalid Input Error: Malformed JSON`);
  }, 120_000);

  it('--quarantine-unreadable quarantines exactly the unreadable line once, across crashes, and compacts the rest', async () => {
    const { s3 } = awsClients(rt.config);
    const quarantined = async () => {
      const keys = (await listAll(s3, rt.config.buckets.quarantine, 'records/')).map((o) => o.Key!);
      return (
        await Promise.all(keys.map((k) => readJsonl<QuarantineRecord>(s3, rt.config.buckets.quarantine, k)))
      ).flat();
    };
    // Crash 1, mid-repair: the line is in the quarantine, the lake object is not rewritten yet.
    const cut = client((cmd, k) => (cmd === 'PutObjectCommand' && k === badKey ? new Error('power cut') : undefined));
    const first = await compactLake(
      { ...compactorDeps(rt.config), s3: cut },
      { before: BEFORE, quarantineUnreadable: true },
    );
    expect(first.failed).toMatchObject([{ table: 'transactions', error: expect.stringMatching(/power cut/) }]);
    expect(await lakeKeys(repairMarkerKey(badKey))).toEqual([repairMarkerKey(badKey)]);
    expect(await quarantined()).toHaveLength(1);
    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([badKey]);

    // Crash 2, after the repair and the Parquet object, before the sources are deleted: the repaired object reads
    // again, and readers see each good line once.
    const crashing = {
      ...compactorDeps(rt.config),
      afterWrite: async () => {
        throw new Error('power cut');
      },
    };
    const second = await compactLake(crashing, { before: BEFORE, quarantineUnreadable: true });
    expect(second.failed).toHaveLength(1);
    expect(second.unreadable).toMatchObject([{ key: badKey, quarantined: 1 }]);
    expect(second.quarantined).toBe(1);
    // The marker stays as the record of the repair (and keeps a concurrent repair from deciding again).
    expect(await lakeKeys('_tributary/compaction/unreadable/')).toEqual([repairMarkerKey(badKey)]);
    expect(await quarantined()).toHaveLength(1);
    expect(await count(DAYS[1]!)).toBe(32);

    const third = await compactLake(compactorDeps(rt.config), { before: BEFORE });
    expect(third).toMatchObject({ failed: [], unreadable: [], resumed: 1 });
    expect(await compactLake(compactorDeps(rt.config), { before: BEFORE })).toMatchObject({
      partitions: 0,
      failed: [],
      unreadable: [],
    });
    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([]);

    const records = await quarantined();
    expect(records).toHaveLength(1);
    const rec = records[0]!;
    expect(rec).toMatchObject({
      stage: 'lake-writer',
      reason: 'malformed_json',
      type: 'transactions',
      v: 1,
      source: 'compactor',
      received_at: bad.received_at,
      payload_encoding: 'utf8',
    });
    expect(rec.payload).toBe(JSON.stringify(bad));
    expect(rec.errors[0]!.message).toMatch(
      new RegExp(
        `^Line 2 of lake object ${badKey} cannot be read by the query engine \\(Invalid Input Error: Malformed JSON in file "${badKey}", at byte \\d+ in line \\d+: no low surrogate in string.*\\); fix the event and re-drive it\\.$`,
      ),
    );
    // Re-driving it puts back the same event (id, type, received time) for the operator to fix.
    expect(redriveSource(rec)).toMatchObject({ type: 'transactions', id: bad.id, receivedAt: bad.received_at, v: 1 });
    expect(JSON.parse(redriveSource(rec).event)).toEqual(JSON.parse(JSON.stringify(bad.data)));

    // Every good row of the day is there, once.
    expect(await count(DAYS[1]!)).toBe(32);
    const ids = (await svc.run({ sql: `SELECT id FROM transactions WHERE dt = '${DAYS[1]}' ORDER BY id` })).rows.map(
      (r) => r[0],
    );
    expect(ids).toEqual(
      good
        .get(DAYS[1]!)!
        .map((e) => e.id)
        .sort(),
    );
  }, 240_000);

  it("two repairs at once decide once: the second uses the first one's decision, so the line is quarantined once", async () => {
    const { s3 } = awsClients(rt.config);
    const [a, b] = dayOf(DAYS[2]!, 2, 123);
    const broken = { ...b!, data: { ...(b!.data as object), category: 'misc\udfff' } };
    const key = (await landInLake(rt.config, [a!, broken]))[0]!;
    const marker = repairMarkerKey(key);
    // Repair A, just before midnight, decides and quarantines, then stops before rewriting the object.
    const crashA = client((cmd, k) => (cmd === 'PutObjectCommand' && k === key ? new Error('power cut') : undefined));
    const runA = await compactLake(
      { ...compactorDeps(rt.config), s3: crashA },
      { before: BEFORE, now: new Date('2026-03-01T23:59:59.900Z'), quarantineUnreadable: true },
    );
    expect(runA.failed).toMatchObject([{ error: expect.stringMatching(/power cut/) }]);
    // Repair B, just after midnight, looked for a decision before A wrote one (its read finds none), decides itself,
    // and must then take A's: otherwise the line would be quarantined a second time, into the next day.
    const lateB = client((cmd, k) =>
      cmd === 'GetObjectCommand' && k === marker
        ? Object.assign(new Error('not there yet'), { name: 'NoSuchKey' })
        : undefined,
    );
    const runB = await compactLake(
      { ...compactorDeps(rt.config), s3: lateB },
      { before: BEFORE, now: new Date('2026-03-02T00:00:00.100Z'), quarantineUnreadable: true },
    );
    expect(runB).toMatchObject({ failed: [], quarantined: 1, unreadable: [{ key, quarantined: 1 }] });
    expect((await listAll(s3, rt.config.buckets.lake, 'events/')).map((o) => o.Key!)).toEqual([]);
    const records = (
      await Promise.all(
        (
          await listAll(s3, rt.config.buckets.quarantine, 'records/')
        ).map((o) => readJsonl<QuarantineRecord>(s3, rt.config.buckets.quarantine, o.Key!)),
      )
    ).flat();
    expect(records.filter((r) => r.errors[0]!.message.includes(key)).map((r) => r.quarantined_at)).toEqual([
      '2026-03-01T23:59:59.900Z',
    ]);
    expect(await count(DAYS[2]!)).toBe(31);
  }, 240_000);

  it('a partition-hour whose Parquet lost its manifest fails alone; the others are compacted', async () => {
    const { s3 } = awsClients(rt.config);
    const [late] = dayOf(DAYS[0]!, 1, 321);
    const [other] = dayOf(DAYS[2]!, 1, 322);
    await landInLake(rt.config, [late!]);
    await landInLake(rt.config, [other!]);
    const parquet = (await listAll(s3, rt.config.buckets.lake, `compacted/transactions/dt=${DAYS[0]}/`)).map(
      (o) => o.Key!,
    );
    expect(parquet).toHaveLength(1);
    await deleteKeys(s3, rt.config.buckets.lake, [manifestKey(parquet[0]!)]);
    const result = await compactLake(compactorDeps(rt.config), { before: BEFORE });
    expect(result.failed).toEqual([
      {
        table: 'transactions',
        partition: `dt=${DAYS[0]}/hour=10/`,
        error: `Compacted object ${parquet[0]} has no manifest ${manifestKey(parquet[0]!)}; restore it or delete the object after checking its rows.`,
      },
    ]);
    expect(result).toMatchObject({ partitions: 2, parquetObjects: 1, rows: 1 });
    expect((await listAll(s3, rt.config.buckets.lake, 'events/')).map((o) => o.Key!.split('/')[2])).toEqual([
      `dt=${DAYS[0]}`,
    ]);
  }, 240_000);
});
