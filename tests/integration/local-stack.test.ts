/** `tributary dev` records where it listens, every command on its data directory finds it, and it refuses at once. */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK_FILE, loadConfig, runningStack } from '../../lib/config.ts';
import { main } from '../../cli/main.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { removeDir, startTestRuntime, tempDir } from './helpers.ts';

describe('a local stack others can find', () => {
  let rt: DevRuntime;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('stack');
    rt = await startTestRuntime(dir);
  });

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('records its ports in the data directory, and a command given only the directory uses them', async () => {
    const stack = JSON.parse(readFileSync(path.join(dir, LOCAL_STACK_FILE), 'utf8'));
    expect(stack).toMatchObject({
      pid: process.pid,
      host: '127.0.0.1',
      ports: { api: rt.config.ports.api, kinesis: rt.config.ports.kinesis, s3: rt.config.ports.s3 },
    });
    // Free ports, not the defaults: without the file, a command would look at :4567 and :4569.
    expect(rt.config.ports.kinesis).not.toBe(4567);
    const found = loadConfig({ TRIBUTARY_DATA_DIR: dir });
    expect(found.endpoints).toEqual(rt.config.endpoints);
    expect(found.ports.api).toBe(rt.config.ports.api);
    // A variable still wins over the file.
    expect(loadConfig({ TRIBUTARY_DATA_DIR: dir, TRIBUTARY_KINESIS_PORT: '4999' }).endpoints!.kinesis).toBe(
      'http://127.0.0.1:4999',
    );
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
    expect(await main(['status', '--json', '--data-dir', dir], io)).toBe(0);
    expect(JSON.parse(out.join('')).stream).toMatchObject({ name: 'events', status: 'ACTIVE' });
  });

  it('refuses a second stack on the same data directory, and a port in use, before creating anything', async () => {
    await expect(startTestRuntime(dir)).rejects.toThrow(
      `tributary dev is already running on ${dir} (pid ${process.pid}, ingest API http://127.0.0.1:${rt.config.ports.api})`,
    );
    // The first stack is untouched: its file is still there.
    expect(runningStack(dir)?.pid).toBe(process.pid);
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const other = path.join(tempDir('stack-busy'), 'data');
    try {
      await expect(startTestRuntime(other, { ports: { api: 0, kinesis: port, s3: 0, pg: 0 } })).rejects.toThrow(
        `Port ${port} on 127.0.0.1 (Kinesis) is in use; pass --kinesis-port <port> or set TRIBUTARY_KINESIS_PORT. Nothing was started or changed.`,
      );
      expect(existsSync(other)).toBe(false);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
      removeDir(path.dirname(other));
    }
  });

  it('forgets the stack when it stops', async () => {
    const second = tempDir('stack-stop');
    const r2 = await startTestRuntime(second);
    expect(runningStack(second)?.ports.api).toBe(r2.config.ports.api);
    await r2.stop();
    expect(existsSync(path.join(second, LOCAL_STACK_FILE))).toBe(false);
    expect(loadConfig({ TRIBUTARY_DATA_DIR: second }).ports.kinesis).toBe(4567);
    removeDir(second);
  });
});
