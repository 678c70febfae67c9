/**
 * The embedded database of `tributary dev` (local/emulators/pglite.ts) keeps each connection's statements apart, as
 * a Postgres server does: concurrent parameterized queries over a pool never bind to another connection's statement,
 * and a failing statement fails alone (pglite-socket's queue did neither: local/emulators/pglite-queue.ts).
 */
import { connect } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../lib/oltp/db.ts';
import { type RunningEmulator, startPglite } from '../../local/emulators/index.ts';
import { removeDir, tempDir } from './helpers.ts';

describe('the embedded Postgres of tributary dev', () => {
  let dir: string;
  let emu: RunningEmulator;
  let pool: pg.Pool;

  beforeAll(async () => {
    dir = tempDir('pglite-emulator');
    emu = await startPglite('127.0.0.1', 0, dir);
    pool = createPool(`postgres://postgres@127.0.0.1:${emu.port}/postgres`, { max: 6 });
  }, 90_000);
  afterAll(async () => {
    await pool?.end();
    await emu?.stop();
    removeDir(dir);
  });

  it('answers 600 concurrent queries over 6 connections (statements of several shapes, transactions among them), each with its own rows', async () => {
    const results = await Promise.all(
      Array.from({ length: 600 }, async (_, i) => {
        // Statements of several shapes, and simple queries (which drop the session's unnamed statement) among them:
        // a Bind after another connection's Parse or Query fails or answers the wrong columns.
        if (i % 4 === 0) return (await pool.query('SELECT $1::int AS n', [i])).rows[0];
        if (i % 4 === 1) return (await pool.query('SELECT $1::text AS t, $2::int AS n', [`t${i}`, i])).rows[0];
        if (i % 4 === 2) {
          // A transaction: its BEGIN is a simple query, and the others must wait for its COMMIT.
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const { rows } = await client.query(`SELECT $1::int AS n, 'simple' AS t`, [i]);
            await client.query('COMMIT');
            return rows[0];
          } finally {
            client.release();
          }
        }
        return (await pool.query('SELECT $1::int + 0 AS n, $2::bool AS b, $3::text AS t', [i, true, `u${i}`])).rows[0];
      }),
    );
    expect(results).toEqual(
      Array.from(
        { length: 600 },
        (_, i) => [{ n: i }, { t: `t${i}`, n: i }, { n: i, t: 'simple' }, { n: i, b: true, t: `u${i}` }][i % 4],
      ),
    );
  }, 60_000);

  it('a failing statement fails alone: the others, before and after it, are answered', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        i % 10 === 5
          ? pool.query('SELECT 1 / $1::int AS n', [0])
          : pool.query('SELECT $1::int AS n', [i]).then((r) => r.rows[0].n as number),
      ),
    );
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as { code?: string }).code))).toEqual(
      Array.from({ length: 60 }, (_, i) => (i % 10 === 5 ? '22012' : i)),
    );
    expect((await pool.query('SELECT 42 AS n')).rows).toEqual([{ n: 42 }]);
  }, 60_000);
  it('a connection that dies in the middle of a batch leaves nothing behind: its insert is rolled back, the others go on', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS abandoned (n int)');
    const frame = (type: string, body: Buffer) => {
      const head = Buffer.alloc(5);
      head.write(type, 0, 'latin1');
      head.writeInt32BE(body.length + 4, 1);
      return Buffer.concat([head, body]);
    };
    const z = (text: string) => Buffer.from(`${text}\0`, 'latin1');
    const socket = connect(emu.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Startup (protocol 3.0, trust), then wait for ReadyForQuery ('Z').
    const params = Buffer.concat([z('user'), z('postgres'), z('database'), z('postgres'), Buffer.from([0])]);
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    let seen = Buffer.alloc(0);
    socket.on('data', (d) => {
      seen = Buffer.concat([seen, d]);
    });
    socket.write(Buffer.concat([startup, params]));
    await expect.poll(() => seen.includes(Buffer.from('Z')), { timeout: 10_000 }).toBe(true);
    // Parse, Bind, Execute of an INSERT, and no Sync: then the process is gone.
    const parse = frame('P', Buffer.concat([z(''), z('INSERT INTO abandoned VALUES (1)'), Buffer.from([0, 0])]));
    const bind = frame('B', Buffer.concat([z(''), z(''), Buffer.from([0, 0, 0, 0, 0, 0])]));
    const execute = frame('E', Buffer.concat([z(''), Buffer.from([0, 0, 0, 0])]));
    const before = seen.length;
    socket.write(Buffer.concat([parse, bind, execute]));
    // ParseComplete ('1') shows the batch has begun on the session.
    await expect.poll(() => seen.subarray(before).includes(Buffer.from('1')), { timeout: 10_000 }).toBe(true);
    socket.destroy();
    // Every other connection is answered, and the dead one's row was never committed.
    const counts = await Promise.all(
      Array.from({ length: 12 }, () => pool.query('SELECT count(*)::int AS n FROM abandoned WHERE n = $1', [1])),
    );
    expect(counts.map((r) => r.rows[0].n)).toEqual(Array(12).fill(0));
  }, 60_000);
});
