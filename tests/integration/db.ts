import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPglite, type RunningEmulator } from '../../local/emulators/index.ts';

/** A database of its own for one test file. */
export interface TestDatabase {
  url: string;
  engine: 'postgres' | 'pglite';
  drop(): Promise<void>;
}

/**
 * A fresh, empty database: on the Postgres server of DATABASE_URL when it is set (CI sets it; each test file gets a
 * database of its own, dropped afterwards), else an embedded PGlite server in a temp directory.
 */
export async function testDatabase(label: string): Promise<TestDatabase> {
  const server = process.env.DATABASE_URL;
  if (server) {
    const name = `tributary_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      engine: 'postgres',
      drop: async () => {
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const pgl = await startTestPglite();
  return { url: pgl.url, engine: 'pglite', drop: pgl.stop };
}

/** An embedded PGlite server on a free port, with a restart (SIGKILL, then start again on the same directory and port). */
export async function startTestPglite(): Promise<{
  url: string;
  port: number;
  restart(downMs?: number): Promise<void>;
  kill(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-pglite-'));
  let emu: RunningEmulator = await startPglite('127.0.0.1', 0, dir);
  const port = emu.port;
  const kill = () => emu.child.kill('SIGKILL');
  const start = async () => {
    emu = await startPglite('127.0.0.1', port, dir);
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill,
    start,
    restart: async (downMs = 0) => {
      kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop: async () => {
      await emu.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
