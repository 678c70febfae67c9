import { describe, expect, it } from 'vitest';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { chunkEntries, putRecordsReliably, PUT_RECORDS_MAX_BYTES } from '../../lib/stream/put-records.ts';

const kinesisMock = mockClient(KinesisClient);

// Kinesis emulators never throttle, so the retry policy is exercised against the SDK's client mocked at its
// contract, answering each PutRecords from a script.
function scripted(responses: ((records: { PartitionKey?: string }[]) => unknown)[]) {
  const calls: string[][] = [];
  kinesisMock.reset();
  kinesisMock.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
    const records = input.Records ?? [];
    calls.push(records.map((r) => r.PartitionKey!));
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    const out = next(records);
    if (out instanceof Error) throw out;
    return out;
  });
  return { client: new KinesisClient({ region: 'us-east-1' }), calls };
}

const ok = (i: number) => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(100 + i) });
const entries = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ data: Buffer.from(`e${i}`), partitionKey: `k${i}` }));
const fast = { sleep: async () => {}, random: () => 0.5 };

describe('putRecordsReliably', () => {
  it('retries only the entries Kinesis throttled and reports every outcome in order', async () => {
    const { client, calls } = scripted([
      (rs) => ({
        FailedRecordCount: 1,
        Records: rs.map((_, i) =>
          i === 1 ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' } : ok(i),
        ),
      }),
      (rs) => ({ FailedRecordCount: 0, Records: rs.map((_, i) => ok(10 + i)) }),
    ]);
    const out = await putRecordsReliably(client, 's', entries(3), fast);
    expect(calls).toEqual([['k0', 'k1', 'k2'], ['k1']]);
    expect(out.map((o) => o.ok && o.sequenceNumber)).toEqual(['100', '110', '102']);
    expect(out[1]).toMatchObject({ ok: true, attempts: 2 });
  });

  it('gives up after maxAttempts and says why, without dropping the entry', async () => {
    const throttled = (rs: unknown[]) => ({
      FailedRecordCount: rs.length,
      Records: rs.map(() => ({
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: 'Rate exceeded for shard',
      })),
    });
    const { client, calls } = scripted([throttled, throttled, throttled]);
    const out = await putRecordsReliably(client, 's', entries(2), { ...fast, maxAttempts: 3 });
    expect(calls).toHaveLength(3);
    expect(out).toEqual([
      {
        ok: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'Rate exceeded for shard',
        attempts: 3,
        retryable: true,
      },
      {
        ok: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'Rate exceeded for shard',
        attempts: 3,
        retryable: true,
      },
    ]);
  });

  it('retries throttled calls and fails fast on errors that retrying cannot fix', async () => {
    const throttle = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { client, calls } = scripted([() => throttle, (rs) => ({ Records: rs.map((_, i) => ok(i)) })]);
    expect((await putRecordsReliably(client, 's', entries(2), fast)).every((o) => o.ok)).toBe(true);
    expect(calls).toHaveLength(2);
    const missing = Object.assign(new Error('Stream events not found'), { name: 'ResourceNotFoundException' });
    const second = scripted([() => missing]);
    const out = await putRecordsReliably(second.client, 's', entries(1), fast);
    expect(out).toEqual([
      {
        ok: false,
        errorCode: 'ResourceNotFoundException',
        errorMessage: 'Stream events not found',
        attempts: 1,
        retryable: false,
      },
    ]);
  });

  it('chunks by 500 entries and by 5 MiB', () => {
    expect(chunkEntries(entries(1201)).map((c) => c.length)).toEqual([500, 500, 201]);
    const big = Array.from({ length: 7 }, (_, i) => ({ data: Buffer.alloc(1024 * 1024 - 10), partitionKey: `k${i}` }));
    const chunks = chunkEntries(big);
    expect(chunks.map((c) => c.length)).toEqual([5, 2]);
    for (const c of chunks)
      expect(c.reduce((s, e) => s + e.data.byteLength + e.partitionKey.length, 0)).toBeLessThanOrEqual(
        PUT_RECORDS_MAX_BYTES,
      );
  });
});

describe('putRecordsReliably metrics', () => {
  const recorder = () => {
    const puts: [string, number, number, number][] = [];
    return { puts, metrics: { recordPut: (...a: [string, number, number, number]) => void puts.push(a) } };
  };

  it('counts stored entries and their bytes (data + partition key) per shard, per call', async () => {
    const shardOf = (k: string) => (Number(k.slice(1)) % 2 ? 'shardId-000000000001' : 'shardId-000000000000');
    const { client } = scripted([
      (rs) => ({ Records: rs.map((r, i) => ({ ShardId: shardOf(r.PartitionKey!), SequenceNumber: String(i) })) }),
    ]);
    const { puts, metrics } = recorder();
    // e0…e4 with keys k0…k4: 2 + 2 bytes each.
    await putRecordsReliably(client, 's', entries(5), { ...fast, metrics });
    expect(puts).toEqual([
      ['shardId-000000000000', 3, 12, 0],
      ['shardId-000000000001', 2, 8, 0],
    ]);
  });

  it('counts each throttled attempt on the shard its message names, else on the stream', async () => {
    const { client } = scripted([
      (rs) => ({
        FailedRecordCount: 2,
        Records: rs.map((_, i) =>
          i === 0
            ? {
                ErrorCode: 'ProvisionedThroughputExceededException',
                ErrorMessage: 'Rate exceeded for shard shardId-000000000001 in stream s under account 111111111111.',
              }
            : i === 1
              ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
              : ok(i),
        ),
      }),
      (rs) => ({ Records: rs.map((_, i) => ({ ShardId: 'shardId-000000000001', SequenceNumber: String(200 + i) })) }),
    ]);
    const { puts, metrics } = recorder();
    await putRecordsReliably(client, 's', entries(3), { ...fast, metrics });
    expect(puts).toEqual([
      ['shardId-000000000001', 0, 0, 1],
      ['stream', 0, 0, 1],
      ['shardId-000000000000', 1, 4, 0],
      ['shardId-000000000001', 2, 8, 0],
    ]);
  });
});
