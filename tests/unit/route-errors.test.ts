/** The console routes' error mapping (app/api/_lib): every route answers what its error says, never a stack trace. */
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../app/api/_lib/json.ts';
import { route } from '../../app/api/_lib/route.ts';
import { SignInThrottledError } from '../../lib/console/errors.ts';
import { CatalogError } from '../../lib/catalog/types.ts';
import { MetricsError } from '../../lib/metrics/types.ts';
import { intParam, OFFSET } from '../../lib/http/params.ts';
import { DatabaseUnavailableError } from '../../lib/oltp/errors.ts';
import { QuarantineForbiddenError, QuarantineNotFoundError } from '../../lib/quarantine/errors.ts';
import { QueryError, QueryRefusedError } from '../../lib/query/errors.ts';
import { StreamBrowseError } from '../../lib/stream/browse.ts';

const answer = async (err: unknown) => {
  const res = errorResponse(err);
  return [res.status, await res.json(), res.headers.get('retry-after')];
};

describe('route errors', () => {
  it('take their status and code from the error class', async () => {
    expect(await answer(new QueryRefusedError('not_a_query', 'Only SELECT.'))).toEqual([
      400,
      { error: 'Only SELECT.', code: 'not_a_query' },
      null,
    ]);
    expect(await answer(new QueryError('running', 'Not finished.'))).toEqual([
      409,
      { error: 'Not finished.', code: 'running' },
      null,
    ]);
    expect(await answer(new QuarantineForbiddenError('forbidden', 'Operators only.'))).toEqual([
      403,
      { error: 'Operators only.', code: 'forbidden' },
      null,
    ]);
    expect((await answer(new QuarantineNotFoundError('Record x')))[0]).toBe(404);
    expect(await answer(new MetricsError('bad_range', 'Use 15m.'))).toEqual([
      400,
      { error: 'Use 15m.', code: 'bad_range' },
      null,
    ]);
    expect((await answer(new MetricsError('metrics_unavailable', 'CloudWatch refused.')))[0]).toBe(502);
    expect((await answer(new StreamBrowseError('bad_from', 'from must be…')))[0]).toBe(400);
    expect((await answer(new DatabaseUnavailableError('Database down.')))[0]).toBe(503);
    expect(await answer(new SignInThrottledError('client', 42))).toEqual([
      429,
      { error: 'Too many failed sign-ins from this address. Try again in 42 s.', code: 'throttled' },
      '42',
    ]);
    // A Tributary error without a status of its own is ours: 500, with its code and message.
    expect(await answer(new CatalogError('bad_table', 'No such table.'))).toEqual([
      500,
      { error: 'No such table.', code: 'bad_table' },
      null,
    ]);
  });

  it('map an AWS resource that does not exist to 404 and anything else to 500', async () => {
    expect(
      await answer(Object.assign(new Error('Stream events not found'), { name: 'ResourceNotFoundException' })),
    ).toEqual([404, { error: 'Stream events not found', code: 'not_found' }, null]);
    expect(await answer(new TypeError('x is undefined'))).toEqual([
      500,
      { error: 'x is undefined', code: 'internal' },
      null,
    ]);
  });

  it('are what a route answers when its handler throws', async () => {
    const get = route(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
      throw new QueryRefusedError('bad_token', `Bad token for ${(await ctx.params).id}.`);
    });
    const res = await get(new Request('http://console/api/queries/q1/results'), {
      params: Promise.resolve({ id: 'q1' }),
    });
    expect([res.status, await res.json()]).toEqual([400, { error: 'Bad token for q1.', code: 'bad_token' }]);
    const ok = route(async () => Response.json({ ok: true }));
    expect(await (await ok(new Request('http://console/api/x'))).json()).toEqual({ ok: true });
  });
});

describe('query-string integers', () => {
  const q = (s: string) => new URLSearchParams(s);
  const LIMIT = { fallback: 50, min: 1, max: 200 };

  it('take the fallback when absent or empty and are held to their range', () => {
    expect(intParam(q(''), 'limit', LIMIT)).toBe(50);
    expect(intParam(q('limit='), 'limit', LIMIT)).toBe(50);
    expect(intParam(q('limit=20'), 'limit', LIMIT)).toBe(20);
    expect(intParam(q('limit=5000'), 'limit', LIMIT)).toBe(200);
    expect(intParam(q('limit=0'), 'limit', LIMIT)).toBe(1);
    expect(intParam(q('offset=-3'), 'offset', OFFSET)).toBe(0);
    expect(intParam(q('offset=1e3'), 'offset', OFFSET)).toBe(1000);
  });

  it('refuse what is not a whole number with a 400 that names the parameter', async () => {
    for (const bad of ['abc', '1.5', 'NaN', 'Infinity', '0x10z']) {
      expect(() => intParam(q(`limit=${bad}`), 'limit', LIMIT)).toThrow(
        `limit: must be a whole number from 1 to 200, not ${JSON.stringify(bad)}.`,
      );
    }
    const res = await route(async (req) => Response.json(intParam(new URL(req.url).searchParams, 'limit', LIMIT)))(
      new Request('http://console/api/audit?limit=lots'),
    );
    expect([res.status, await res.json()]).toEqual([
      400,
      { error: 'limit: must be a whole number from 1 to 200, not "lots".', code: 'bad_parameter' },
    ]);
  });
});
