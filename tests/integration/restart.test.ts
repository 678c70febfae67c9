import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import {
  duplicates,
  readLake,
  startTestRuntime,
  tempDir,
  waitFor,
  sendTransactions,
  runtimePerTest,
} from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function processesUsing(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

describe('restarts lose nothing and re-read nothing', () => {
  const s = runtimePerTest();

  it('keeps stream, lake and checkpoints across an emulator restart', async () => {
    s.dir = tempDir('restart');
    s.rt = await startTestRuntime(s.dir);
    const first = await sendTransactions(s.rt, 800, 21);
    await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 800,
    );
    await s.rt.stop();

    s.rt = await startTestRuntime(s.dir);
    // Checkpoints survived: once every shard has been read from its checkpoint (twice, so a read past the first page
    // would have found any record), nothing was read again.
    const read = await waitFor(
      async () => s.rt!.poller.stats(),
      (st) => st.length === 2 && st.every((x) => x.reads >= 2),
      30_000,
      50,
    );
    expect(read.reduce((n, x) => n + x.records, 0)).toBe(0);
    expect((await readLake(s.rt.config)).rows.length).toBe(800);

    const second = await sendTransactions(s.rt, 800, 22);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 1600,
    );
    expect(lake.rows.length).toBe(1600);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    expect(lake.rows.map((r) => r.id).sort()).toEqual([...first, ...second].sort());
  }, 90_000);

  it('recovers exactly after the consumer process is killed mid-batch', async () => {
    s.dir = tempDir('crash');
    // Records wait on the stream while no consumer runs.
    s.rt = await startTestRuntime(s.dir, { consumers: false });
    const ids = await sendTransactions(s.rt, 2000, 23);
    await s.rt.stop();
    s.rt = undefined;

    // The dev process SIGKILLs itself after writing 40 lake objects: in the middle of its first batches.
    const child = spawn(
      process.execPath,
      [
        'bin/tributary.mjs',
        'dev',
        '--no-console',
        '--data-dir',
        s.dir,
        '--api-port',
        '0',
        '--kinesis-port',
        '0',
        '--s3-port',
        '0',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          TRIBUTARY_FAULTS: JSON.stringify({ lakeWriter: { crashAfterObjects: 40 } }),
          TRIBUTARY_API_KEY: 'test-key',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    const exit = await new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    expect(exit, output).toBe('SIGKILL');
    // Its emulators noticed the parent die and exited too: no orphans.
    const orphans = await waitFor(
      async () => processesUsing(s.dir),
      (p) => p.length === 0,
      10_000,
      200,
    );
    expect(orphans).toEqual([]);

    s.rt = await startTestRuntime(s.dir);
    const partial = await readLake(s.rt.config);
    expect(partial.keys.length).toBeGreaterThan(0);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 2000,
      90_000,
    );
    expect(lake.rows.length).toBe(2000);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    expect(lake.rows.map((r) => r.id).sort()).toEqual(ids.sort());
  });

  it('drains a parent shard before its children after a split', async () => {
    s.dir = tempDir('split');
    s.rt = await startTestRuntime(s.dir, { shardCount: 1 });
    const before = await sendTransactions(s.rt, 300, 24);
    await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 300,
    );
    const { kinesis } = awsClients(s.rt.config);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: 'events',
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitFor(
      async () => (await kinesis.send(new ListShardsCommand({ StreamName: 'events' }))).Shards ?? [],
      (s) => s.length === 3,
      10_000,
      100,
    );
    const after = await sendTransactions(s.rt, 300, 25);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 600,
      60_000,
    );
    expect(lake.rows.length).toBe(600);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    expect(lake.rows.map((r) => r.id).sort()).toEqual([...before, ...after].sort());
    const checkpoints = JSON.parse(readFileSync(path.join(s.dir, 'checkpoints', 'lake-writer.json'), 'utf8')).shards;
    expect(checkpoints['shardId-000000000000'].ended).toBe(true);
    expect(Object.keys(checkpoints).sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000002',
    ]);
  });
});
