/**
 * One definition of each consumer's event-source mapping (lib/stream/mappings.ts): the local runtime runs it with
 * only the documented overrides, and the local poller honours the settings Lambda does — here the OLTP sink's event
 * filter, which the local poller ignored before (the sink then saw every record of the stream).
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { ConfigError } from '../../lib/errors.ts';
import { IMPORT_APPLIER_MAPPING, LAKE_WRITER_MAPPING, OLTP_SINK_MAPPING } from '../../lib/stream/mappings.ts';
import { compareSeq } from '../../lib/stream/records.ts';
import { CheckpointStore } from '../../local/checkpoints.ts';
import { LOCAL_MAPPING_OVERRIDES, LOCAL_MAPPINGS, type DevRuntime } from '../../local/dev.ts';
import { recordFilter, ShardPoller } from '../../local/poller.ts';
import { removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

describe('the local mappings are the deployed ones', () => {
  it('differ from lib/stream/mappings.ts only by the documented overrides', () => {
    for (const [local, deployed] of [
      [LOCAL_MAPPINGS['lake-writer'], LAKE_WRITER_MAPPING],
      [LOCAL_MAPPINGS['oltp-sink'], OLTP_SINK_MAPPING],
      [LOCAL_MAPPINGS['import-applier'], IMPORT_APPLIER_MAPPING],
    ] as const) {
      const differs = Object.keys({ ...local, ...deployed }).filter(
        (k) => JSON.stringify(local[k as keyof typeof local]) !== JSON.stringify(deployed[k as keyof typeof deployed]),
      );
      expect(differs).toEqual(Object.keys(LOCAL_MAPPING_OVERRIDES));
    }
    // What used to differ without saying so: the batch size (1,000 locally) and the record age (no limit locally).
    expect(LOCAL_MAPPINGS['lake-writer']).toMatchObject({
      batchSize: 500,
      maximumRecordAgeInSeconds: 86_400,
      maximumRetryAttempts: 5,
      bisectBatchOnFunctionError: true,
    });
    expect(LOCAL_MAPPINGS['oltp-sink']).toMatchObject({
      batchSize: 500,
      maximumRecordAgeInSeconds: -1,
      maximumRetryAttempts: -1,
      bisectBatchOnFunctionError: false,
      filterCriteria: OLTP_SINK_MAPPING.filterCriteria,
    });
  });

  it('matches records the way Lambda event filtering does, and refuses operators it does not emulate', () => {
    const match = recordFilter(OLTP_SINK_MAPPING.filterCriteria)!;
    const rec = (data: string, partitionKey = 'p') => ({
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber: '1',
      approximateArrivalTimestamp: 0,
      data: Buffer.from(data).toString('base64'),
    });
    expect(match(rec(JSON.stringify({ type: 'transactions', data: {} })))).toBe(true);
    expect(match(rec(JSON.stringify({ type: 'clickstream', data: {} })))).toBe(false);
    expect(match(rec(JSON.stringify({ type: ['x', 'transactions'] })))).toBe(true);
    expect(match(rec('not json'))).toBe(false);
    expect(match(rec(JSON.stringify({ data: { type: 'transactions' } })))).toBe(false);
    expect(recordFilter(undefined)).toBeUndefined();
    expect(() =>
      recordFilter({ filters: [{ pattern: JSON.stringify({ data: { amt: [{ numeric: ['>', 0] }] } }) }] }),
    ).toThrow(ConfigError);
    // The import applier's: a prefix, on strings only.
    const ops = recordFilter(IMPORT_APPLIER_MAPPING.filterCriteria)!;
    expect(ops(rec(JSON.stringify({ type: 'import.example', data: {} })))).toBe(true);
    expect(ops(rec(JSON.stringify({ type: ['transactions', 'import.x'] })))).toBe(true);
    expect(ops(rec(JSON.stringify({ type: 'transactions', data: {} })))).toBe(false);
    expect(ops(rec(JSON.stringify({ type: 'imports', data: {} })))).toBe(false);
    expect(ops(rec(JSON.stringify({ type: { prefix: 'import.' } })))).toBe(false);
    expect(ops(rec('import.example'))).toBe(false);
    // An aggregate of operations is JSON with its type; the partition key plays no part (Lambda filters on data only).
    expect(ops(rec(JSON.stringify({ tributary_aggregate: 1, type: 'import.example', count: 2, gzip: '' })))).toBe(true);
    expect(match(rec(JSON.stringify({ tributary_aggregate: 1, type: 'import.example', count: 2, gzip: '' })))).toBe(
      false,
    );
    expect(match(rec(JSON.stringify({ type: 'transactions', data: {} }), 'import.example'))).toBe(true);
    expect(() =>
      recordFilter({ filters: [{ pattern: JSON.stringify({ partitionKey: [{ prefix: 'import.' }] }) }] }),
    ).toThrow(/only filter on "data"/);
  });
});

describe('the local poller runs a mapping as Lambda would', () => {
  let rt: DevRuntime;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('mappings');
    rt = await startTestRuntime(dir, { consumers: false });
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('delivers only the records the sink’s filter matches, and checkpoints past the others', async () => {
    const { kinesis, s3 } = awsClients(rt.config);
    const data = [
      { id: 't1', type: 'transactions' },
      { id: 'c1', type: 'clickstream' },
      'garbage',
      { id: 't2', type: 'transactions' },
      { id: 'x1', type: 'taxi_trips' },
    ];
    const res = await kinesis.send(
      new PutRecordsCommand({
        StreamName: rt.config.streamName,
        Records: data.map((d, i) => ({
          Data: Buffer.from(typeof d === 'string' ? d : JSON.stringify(d)),
          PartitionKey: `k${i}`,
        })),
      }),
    );
    const last = new Map<string, string>();
    for (const r of res.Records ?? [])
      if (!last.has(r.ShardId!) || compareSeq(r.SequenceNumber!, last.get(r.ShardId!)!) > 0)
        last.set(r.ShardId!, r.SequenceNumber!);
    const seen: string[] = [];
    const poller = new ShardPoller({
      kinesis,
      s3,
      streamName: rt.config.streamName,
      region: rt.config.region,
      checkpoints: new CheckpointStore(path.join(dir, 'checkpoints'), 'filter-test'),
      mapping: {
        ...LOCAL_MAPPINGS['oltp-sink'],
        maximumBatchingWindowInSeconds: 0.1,
        name: 'filter-test',
        functionTimeoutMs: 10_000,
        handler: async (event: KinesisStreamEvent) => {
          for (const r of event.Records)
            seen.push((JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { id: string }).id);
          return { batchItemFailures: [] };
        },
      },
      pollIntervalMs: 50,
    });
    poller.start();
    try {
      const stats = await waitFor(
        async () => poller.stats(),
        (s) =>
          [...last].every(([shard, seq]) =>
            s.some((x) => x.shardId === shard && x.checkpoint !== undefined && compareSeq(x.checkpoint, seq) >= 0),
          ),
        60_000,
        100,
      );
      expect(seen.sort()).toEqual(['t1', 't2']);
      expect(stats.reduce((n, s) => n + s.records, 0)).toBe(5);
    } finally {
      await poller.stop();
    }
  });
});
