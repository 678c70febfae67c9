/**
 * Both whole-batch consumers through their real Lambda handlers (functions/lake-writer, functions/oltp-sink) with
 * Kinesis events: the handler itself returns Lambda's partial batch response — all done, a failure in the middle of
 * each of two shards, a shard that fails at its first record (a partial response, not a function error) and a thrown
 * error (a function error: Lambda retries or bisects the batch).
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envelope, hex32 as hex, transaction } from '../helpers/factories.ts';
import { createHandler as lakeWriterHandler } from '../../functions/lake-writer/handler.ts';
import { createHandler as oltpSinkHandler } from '../../functions/oltp-sink/handler.ts';
import { createPool } from '../../lib/oltp/db.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { testDatabase, type TestDatabase } from './db.ts';

const context = {} as Context;
const seqOf = (shard: number, n: number) => `4960${shard}${String(n).padStart(51, '0')}`;

const tx = (n: number, day: string) => transaction(n, { category: 'misc', is_fraud: 0 }, day);

/** A Kinesis event of envelopes: `days[i]` is the event day of record i, per shard. */
function event(shards: number[], days: string[]): KinesisStreamEvent {
  return {
    Records: shards.flatMap((shard) =>
      days.map((day, i) => {
        const n = shard * 1000 + i;
        const env = envelope(tx(n, day), { id: hex(n), event_time: `${day}T10:00:00.000Z` });
        return {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: `pk-${n}`,
            sequenceNumber: seqOf(shard, i),
            data: Buffer.from(JSON.stringify(env)).toString('base64'),
            approximateArrivalTimestamp: 1_772_359_200,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `shardId-00000000000${shard}:${seqOf(shard, i)}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/x',
          awsRegion: 'us-east-1',
          eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
        };
      }),
    ),
  };
}

const DAYS = ['2026-03-01', '2026-03-01', '2026-03-01', '2026-03-02', '2026-03-02', '2026-03-02'];

describe('lake writer handler', () => {
  const s3Mock = mockClient(S3Client);
  const s3 = new S3Client({ region: 'us-east-1' });
  const handler = lakeWriterHandler(() => ({
    s3,
    registry: defaultRegistry(),
    buckets: { lake: 'lake', quarantine: 'quarantine' },
  }));
  let puts: string[] = [];

  beforeEach(() => {
    s3Mock.reset();
    puts = [];
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no journal', $metadata: {} }));
  });
  afterAll(() => s3Mock.restore());

  const failing = (test: (key: string) => boolean) =>
    s3Mock.on(PutObjectCommand).callsFake((input: { Key: string }) => {
      if (test(input.Key))
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      puts.push(input.Key);
      return {};
    });

  it('answers an empty failure list when every record is stored', async () => {
    failing(() => false);
    expect(await handler(event([0, 1], DAYS), context)).toEqual({ batchItemFailures: [] });
    expect(puts.filter((k) => k.startsWith('events/')).length).toBe(4);
  });

  it('reports the first record of the failed object of each of two shards', async () => {
    failing((key) => key.includes('dt=2026-03-02'));
    expect(await handler(event([0, 1], DAYS), context)).toEqual({
      batchItemFailures: [{ itemIdentifier: seqOf(0, 3) }, { itemIdentifier: seqOf(1, 3) }],
    });
  });

  it('reports a shard that failed at its first record as a partial response, not a function error', async () => {
    // Powertools rejected every record here and threw FullBatchFailureError: Lambda saw a function error.
    failing((key) => key.startsWith('events/'));
    expect(await handler(event([0], DAYS), context)).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(0, 0) }] });
  });

  it('throws when the batch cannot be handled at all, so Lambda retries it whole', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(handler(event([0, 1], DAYS), context)).rejects.toThrow('Access Denied');
  });
});

describe('OLTP sink handler', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const s3Mock = mockClient(S3Client);
  const s3 = new S3Client({ region: 'us-east-1' });
  /** trans_nums whose insert fails as if the connection dropped. */
  const outage = new Set<string>();

  beforeAll(async () => {
    db = await testDatabase('handlers');
    pool = createPool(db.url, { max: 4 });
    // Clients whose statements fail like a lost connection when they carry an event of `outage`.
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const params = args[1];
        if (
          Array.isArray(params) &&
          JSON.stringify(params)
            .match(/[0-9a-f]{32}/g)
            ?.some((t) => outage.has(t))
        ) {
          return Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }));
        }
        return query(...args);
      };
    });
    s3Mock.on(PutObjectCommand).resolves({});
  }, 60_000);

  afterAll(async () => {
    s3Mock.restore();
    await pool?.end();
    await db?.drop();
  });

  const handler = () => oltpSinkHandler(() => ({ pool, s3, quarantineBucket: 'quarantine', chunkSize: 3 }));
  const applied = async () => (await pool.query<{ n: string }>('SELECT count(*) AS n FROM "transaction"')).rows[0]!.n;

  it('applies every event and answers an empty failure list', async () => {
    outage.clear();
    expect(await handler()(event([0, 1], DAYS), context)).toEqual({ batchItemFailures: [] });
    expect(await applied()).toBe('12');
  });

  it('reports the first event of the chunk the database did not take, on each of two shards', async () => {
    outage.clear();
    const e = event([2, 3], DAYS);
    // The second chunk (records 3..5) of both shards meets the outage.
    outage.add(hex(2004)).add(hex(3005));
    expect(await handler()(e, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: seqOf(2, 3) }, { itemIdentifier: seqOf(3, 3) }],
    });
    expect(await applied()).toBe(String(12 + 6));
    // Delivered again from there once the database is back: the rest goes in, nothing twice.
    outage.clear();
    expect(await handler()(e, context)).toEqual({ batchItemFailures: [] });
    expect(await applied()).toBe(String(12 + 12));
  });

  it('reports a shard whose first chunk failed as a partial response, not a function error', async () => {
    outage.clear();
    outage.add(hex(4000));
    expect(await handler()(event([4], DAYS), context)).toEqual({
      batchItemFailures: [{ itemIdentifier: seqOf(4, 0) }],
    });
  });

  it('throws when the sink cannot start (the database refuses every connection)', async () => {
    const down = createPool('postgres://postgres@127.0.0.1:1/none', { max: 1, connectionTimeoutMillis: 1_000 });
    try {
      await expect(
        oltpSinkHandler(() => ({ pool: down, s3, quarantineBucket: 'quarantine' }))(event([5], DAYS), context),
      ).rejects.toThrow();
    } finally {
      await down.end();
    }
  });
});
