/**
 * The AWS contract of re-drive claims (lib/quarantine/claims.ts) against the S3 API as aws-sdk-client-mock sees it:
 * a claim is a PutObject with If-None-Match: *, a 412 or 409 is a lost race, an existing claim is replaced only with
 * If-Match on its ETag. And one chunk of a job through `redriveChunk` with S3 and Kinesis mocked.
 */
import { gunzipSync } from 'node:zlib';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { claimRecord, releaseClaim, type Claim } from '../../lib/quarantine/claims.ts';
import { quarantineRecord, type QuarantineRecord } from '../../lib/quarantine/record.ts';
import { redriveChunk } from '../../lib/quarantine/redrive.ts';
import { QuarantineIndex } from '../../lib/quarantine/quarantine-index.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const s3Mock = mockClient(S3Client);
const kinesisMock = mockClient(KinesisClient);
const s3 = new S3Client({ region: 'us-east-1' });
const kinesis = new KinesisClient({ region: 'us-east-1' });

const failed = (status: number, name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
// What the SDK's response body offers (a stream mixin); the claim reader uses only transformToString.
const body = (v: unknown) => ({ transformToString: async () => JSON.stringify(v) }) as never;
const mine: Claim = { qid: 'q.1', job: 'job-b', chunk: 0, at: new Date().toISOString() };
const theirs: Claim = { qid: 'q.1', job: 'job-a', chunk: 3, at: '2026-03-01T10:00:00.000Z' };
const conditions = () =>
  s3Mock.commandCalls(PutObjectCommand).map((c) => ({
    key: c.args[0].input.Key,
    IfNoneMatch: c.args[0].input.IfNoneMatch,
    IfMatch: c.args[0].input.IfMatch,
  }));

beforeEach(() => {
  s3Mock.reset();
  kinesisMock.reset();
});

describe('claiming a record with S3 conditional writes', () => {
  it('creates the claim with If-None-Match: *', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    expect(await claimRecord(s3, 'quarantine', mine, () => true)).toEqual({ claimed: true, claim: mine, etag: '"e1"' });
    expect(conditions()).toEqual([{ key: 'claims/q.1.json', IfNoneMatch: '*', IfMatch: undefined }]);
  });

  it('leaves a record another live job claimed (412), without writing again', async () => {
    s3Mock.on(PutObjectCommand).rejects(failed(412, 'PreconditionFailed'));
    s3Mock.on(GetObjectCommand).resolves({ Body: body(theirs), ETag: '"e0"' });
    expect(await claimRecord(s3, 'quarantine', mine, () => false)).toEqual({ claimed: false, holder: theirs });
    expect(conditions()).toEqual([{ key: 'claims/q.1.json', IfNoneMatch: '*', IfMatch: undefined }]);
  });

  it('takes over a dead job’s claim only with If-Match on the ETag it read', async () => {
    s3Mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(failed(412, 'PreconditionFailed'));
    s3Mock.on(PutObjectCommand, { IfMatch: '"e0"' }).resolves({ ETag: '"e2"' });
    s3Mock.on(GetObjectCommand).resolves({ Body: body(theirs), ETag: '"e0"' });
    expect(await claimRecord(s3, 'quarantine', mine, (h) => h.job === 'job-a')).toEqual({
      claimed: true,
      claim: mine,
      etag: '"e2"',
      from: theirs,
    });
    expect(conditions()).toEqual([
      { key: 'claims/q.1.json', IfNoneMatch: '*', IfMatch: undefined },
      { key: 'claims/q.1.json', IfNoneMatch: undefined, IfMatch: '"e0"' },
    ]);
  });

  it('renews its own claim (a resumed job); a 409 ConditionalRequestConflict is a lost race, read like a 412', async () => {
    s3Mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(failed(409, 'ConditionalRequestConflict'));
    s3Mock.on(PutObjectCommand, { IfMatch: '"e5"' }).resolves({ ETag: '"e6"' });
    s3Mock.on(GetObjectCommand).resolves({ Body: body({ ...mine, at: '2026-03-01T10:00:00.000Z' }), ETag: '"e5"' });
    expect(await claimRecord(s3, 'quarantine', mine, () => false)).toEqual({
      claimed: true,
      claim: mine,
      etag: '"e6"',
    });
    expect(conditions().map((c) => c.IfMatch ?? c.IfNoneMatch)).toEqual(['*', '"e5"']);
  });

  it('loses to a writer that changed the claim between its read and its write', async () => {
    s3Mock.on(PutObjectCommand).rejects(failed(412, 'PreconditionFailed'));
    s3Mock.on(GetObjectCommand).resolves({ Body: body(theirs), ETag: '"e0"' });
    const out = await claimRecord(s3, 'quarantine', mine, () => true);
    expect(out).toEqual({ claimed: false, holder: theirs });
    // Four rounds of create-then-replace, never an unconditional write.
    expect(conditions().every((c) => c.IfNoneMatch === '*' || c.IfMatch === '"e0"')).toBe(true);
  });

  it('fails loudly on anything that is not a lost race', async () => {
    s3Mock.on(PutObjectCommand).rejects(failed(403, 'AccessDenied'));
    await expect(claimRecord(s3, 'quarantine', mine, () => true)).rejects.toThrow('AccessDenied');
  });

  it('releases a claim with If-Match, so a claim someone else took is left alone', async () => {
    s3Mock.on(PutObjectCommand).rejects(failed(412, 'PreconditionFailed'));
    await releaseClaim(s3, 'quarantine', mine, '"e1"', '2026-03-01T11:00:00.000Z');
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect([put.IfMatch, JSON.parse(put.Body as string)]).toEqual([
      '"e1"',
      { ...mine, at: '2026-03-01T11:00:00.000Z', released: true },
    ]);
  });
});

describe('one re-drive chunk against the AWS APIs', () => {
  const registry = defaultRegistry();
  const tx = (extra: Record<string, unknown> = {}) => ({
    trans_num: 'a'.repeat(32),
    cc_num: '4000000000000002',
    trans_date_trans_time: '2026-03-01 12:00:00',
    amt: 1.5,
    ...extra,
  });
  const record: QuarantineRecord = quarantineRecord({
    id: 'a'.repeat(32),
    stage: 'ingest',
    reason: 'schema_violation',
    errors: [],
    type: 'transactions',
    v: 1,
    receivedAt: '2026-03-01T12:00:01.000Z',
    quarantinedAt: '2026-03-01T12:00:02.000Z',
    payload: JSON.stringify(tx({ gender: 'X' })),
    source: 'api',
  });

  function setup() {
    const index = new QuarantineIndex(s3, 'quarantine');
    const [ok, big, held] = index.addObject('records/dt=2026-03-01/reason=schema_violation/ingest-1.jsonl.gz', [
      record,
      { ...record, id: 'b'.repeat(32) },
      { ...record, id: 'c'.repeat(32) },
    ]);
    const written = new Map<string, Buffer>();
    s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: Buffer | string; IfNoneMatch?: string }) => {
      if (input.Key === `claims/${held!.qid}.json`) throw failed(412, 'PreconditionFailed');
      written.set(input.Key, Buffer.from(input.Body));
      return { ETag: '"new"' };
    });
    s3Mock
      .on(GetObjectCommand, { Key: `claims/${held!.qid}.json` })
      .resolves({ Body: body({ qid: held!.qid, job: 'job-a', chunk: 0, at: new Date().toISOString() }), ETag: '"a"' });
    kinesisMock.on(PutRecordsCommand).resolves({
      Records: [
        {
          ShardId: 'shardId-000000000000',
          SequenceNumber: '49600000000000000000000000000000000000000000000000000001',
        },
      ],
    });
    const fixes = new Map([
      [ok!.qid, { event: JSON.stringify(tx({ gender: 'F' })) }],
      [
        big!.qid,
        { event: JSON.stringify(tx({ trans_num: 'b'.repeat(32), merchant: 'm'.repeat(5 * 1024 * 1024 + 1) })) },
      ],
      [held!.qid, { event: JSON.stringify(tx({ trans_num: 'c'.repeat(32), gender: 'F' })) }],
    ]);
    return { index, written, fixes, ok: ok!, big: big!, held: held! };
  }

  it('claims before it puts, skips what another job holds, and re-quarantines an oversized fix as too_large', async () => {
    const { index, written, fixes, ok, big, held } = setup();
    const deps = { registry, kinesis, s3, streamName: 'events', bucket: 'quarantine', index };
    const { counts, lines } = await redriveChunk(deps, { id: 'job-b', by: 'alice', fixes }, 0, [
      ok.qid,
      big.qid,
      held.qid,
    ]);
    expect(counts).toEqual({ accepted: 1, failed: 1, skipped: 1, errors: 0 });
    expect(lines.map((l) => [l.qid, l.outcome, l.reason])).toEqual([
      [held.qid, 'skipped', undefined],
      [ok.qid, 'accepted', undefined],
      [big.qid, 'failed', 'too_large'],
    ]);
    // Every claim was conditional and written before the one PutRecords call, which held only the claimed record.
    const put = kinesisMock.commandCalls(PutRecordsCommand)[0]!;
    const claimPuts = s3Mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key!.startsWith('claims/'));
    expect(claimPuts.length).toBe(3);
    expect(claimPuts.every((c) => c.calledBefore(put))).toBe(true);
    expect(
      s3Mock
        .commandCalls(PutObjectCommand)
        .filter((c) => c.args[0].input.Key!.startsWith('claims/'))
        .every((c) => c.args[0].input.IfNoneMatch === '*'),
    ).toBe(true);
    expect(kinesisMock.commandCalls(PutRecordsCommand)[0]!.args[0].input.Records!.length).toBe(1);
    const requarantined = [...written].find(([k]) => k.startsWith('records/'))!;
    expect(requarantined[0]).toMatch(
      /^records\/dt=\d{4}-\d{2}-\d{2}\/reason=too_large\/redrive-job-b-000000\.jsonl\.gz$/,
    );
    expect(JSON.parse(gunzipSync(requarantined[1]).toString())).toMatchObject({
      id: 'b'.repeat(32),
      stage: 'redrive',
      reason: 'too_large',
      attempts: 2,
    });
  });
});
