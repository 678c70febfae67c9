import { MantineProvider } from '@mantine/core';
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { GET } from '../../app/api/oltp/route.ts';
import { LatestTransactions } from '../../components/oltp/LatestTransactions.tsx';
import { OltpKpis } from '../../components/oltp/OltpKpis.tsx';
import { OltpUnavailable } from '../../components/oltp/OltpOverview.tsx';
import { SinkTable } from '../../components/oltp/SinkTable.tsx';
import { filterFromParams } from '../../components/quarantine/types.ts';
import { ApiError } from '../../components/api.ts';
import { OLTP_LATEST, type OltpOverview } from '../../lib/console/oltp.ts';
import { intParam } from '../../lib/http/params.ts';
import { MIGRATIONS } from '../../lib/oltp/migrations.ts';
import type { LatestTransaction, SinkProgress } from '../../lib/oltp/status.ts';
import type { QuarantineCounts } from '../../lib/quarantine/quarantine-index.ts';

const XSS = '<img src=x onerror="window.__xss=1">';

// The console's per-process singletons (lib/composition.ts), replaced by fakes for the route.
const POOL = Symbol.for('tributary.oltpPool');
const QUARANTINE = Symbol.for('tributary.quarantineService');
const g = globalThis as Record<symbol, unknown>;

function fakePool(answer: (sql: string, call: number) => { rows: unknown[] }) {
  let call = 0;
  return { query: async (sql: string) => answer(sql, call++) };
}

const counts = (byStage: Record<string, number>): QuarantineCounts => ({
  open: 9,
  redriven: 0,
  discarded: 0,
  byType: {},
  byStage,
  byReason: {},
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await GET(new Request(url));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/oltp', () => {
  afterEach(() => {
    delete g[POOL];
    delete g[QUARANTINE];
  });

  it('answers 503 with what to do when the database cannot be reached', async () => {
    g[POOL] = fakePool(() => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4570'), { code: 'ECONNREFUSED' });
    });
    g[QUARANTINE] = { counts: async () => counts({}) };
    const { status, body } = await get('http://console/api/oltp');
    expect(status).toBe(503);
    expect(body.code).toBe('database_unavailable');
    expect(body.error).toBe(
      'Cannot reach the database: connect ECONNREFUSED 127.0.0.1:4570. Is `tributary dev` running, or DATABASE_URL set?',
    );
  });

  it('answers 503 when the database stops answering half-way, 500 for a failing statement', async () => {
    g[QUARANTINE] = { counts: async () => counts({}) };
    g[POOL] = fakePool((_, call) => {
      if (call === 0) return { rows: [{ version: 'PostgreSQL 17.4 on x86_64' }] };
      throw new Error('Connection terminated unexpectedly');
    });
    const dropped = await get('http://console/api/oltp');
    expect([dropped.status, dropped.body.code]).toEqual([503, 'database_unavailable']);
    expect(dropped.body.error).toMatch(/^The database stopped answering: Connection terminated unexpectedly\. /);
    g[POOL] = fakePool((_, call) => {
      if (call === 0) return { rows: [{ version: 'PostgreSQL 17.4 on x86_64' }] };
      throw Object.assign(new Error('permission denied for function to_regclass'), { code: '42501' });
    });
    const refused = await get('http://console/api/oltp');
    expect([refused.status, refused.body.error]).toEqual([500, 'permission denied for function to_regclass']);
  });

  it('reports a database never migrated, with the open oltp-sink quarantine backlog only', async () => {
    g[POOL] = fakePool((sql) =>
      /version\(\)/.test(sql) ? { rows: [{ version: 'PostgreSQL 17.4 on x86_64' }] } : { rows: [{ t: null }] },
    );
    g[QUARANTINE] = { counts: async () => counts({ ingest: 5, 'oltp-sink': 3, 'lake-writer': 1 }) };
    const { status, body } = await get('http://console/api/oltp?latest=5');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      server: 'PostgreSQL 17.4 on x86_64',
      migration: { current: 0, latest: MIGRATIONS.at(-1)!.version },
      tables: { city: 0, address: 0, customer: 0, merchant: 0, transaction: 0 },
      sink: [],
      latest: [],
      quarantine: { open: 3 },
    });
    expect(Date.parse(body.at as string)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('still answers when the quarantine cannot be read, saying why', async () => {
    g[POOL] = fakePool((sql) =>
      /version\(\)/.test(sql) ? { rows: [{ version: 'PostgreSQL 17.4' }] } : { rows: [{ t: null }] },
    );
    g[QUARANTINE] = {
      counts: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:4569');
      },
    };
    const { status, body } = await get('http://console/api/oltp');
    expect(status).toBe(200);
    expect(body.quarantine).toEqual({ open: null, error: 'connect ECONNREFUSED 127.0.0.1:4569' });
  });

  it('holds ?latest= to 0…100 and refuses what is not a whole number', async () => {
    const latest = (raw: string) => intParam(new URLSearchParams(raw), 'latest', OLTP_LATEST);
    expect(['', 'latest=', 'latest=5', 'latest=-3', 'latest=0', 'latest=1000'].map(latest)).toEqual([
      20, 20, 5, 0, 0, 100,
    ]);
    expect(() => latest('latest=2.7')).toThrow('latest: must be a whole number from 0 to 100, not "2.7".');
    const { status, body } = await get('http://console/api/oltp?latest=abc');
    expect([status, body]).toEqual([
      400,
      { error: 'latest: must be a whole number from 0 to 100, not "abc".', code: 'bad_parameter' },
    ]);
  });
});

const tx = (over: Partial<LatestTransaction>): LatestTransaction => ({
  trans_num: '0b242abb623afc578575680df30655b9',
  timestamp: '2026-01-15T10:20:30.000Z',
  amount: '1234.50',
  is_fraud: false,
  cc_num: '4000000000000001',
  customer: 'Jennifer Banks',
  merchant: 'fraud_Rippin, Kub and Mann',
  category: 'misc_net',
  city: 'Moravian Falls',
  state: 'NC',
  source: 'api',
  redrive_job: null,
  applied_at: '2026-01-15T10:20:31.000Z',
  ...over,
});

const shard = (over: Partial<SinkProgress>): SinkProgress => ({
  consumer: 'oltp-sink',
  shardId: 'shardId-000000000000',
  sequenceNumber: '4960',
  lastReceivedAt: '2026-01-15T10:20:30.000Z',
  lastAppliedAt: '2026-01-15T10:20:31.000Z',
  latencyMs: 850,
  idleMs: 12_500,
  applied: 1200,
  duplicates: 3,
  rejected: 0,
  batches: 7,
  ...over,
});

/** The text of each row's cells. */
/** Server-rendered markup of a console component, inside the component kit's provider as the console renders it. */
function render(element: ReactElement): string {
  // Without the provider's <style> blocks (its CSS variables and responsive classes), which are not the component's.
  return renderToStaticMarkup(createElement(MantineProvider, null, element)).replace(
    /<style[^>]*>[\s\S]*?<\/style>/g,
    '',
  );
}

function cells(html: string, section: 'tbody' | 'tfoot' = 'tbody'): string[][] {
  const body = html.split(new RegExp(`<${section}[^>]*>`))[1]!.split(`</${section}>`)[0]!;
  return body
    .split('</tr>')
    .filter((r) => /<t[dh]/.test(r))
    .map((r) =>
      [...r.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((m) =>
        m[1]!
          .replace(/<[^>]+>/g, '')
          .replace(/&amp;/g, '&')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#x27;/g, "'"),
      ),
    );
}

describe('OLTP page components', () => {
  it('lists the newest transactions as text: markup in a value is shown, never run; card numbers masked', () => {
    const html = render(
      createElement(LatestTransactions, {
        rows: [
          tx({
            trans_num: `${'c'.repeat(31)}1`,
            merchant: XSS,
            category: null,
            customer: '',
            city: null,
            state: null,
            amount: null,
            is_fraud: null,
            timestamp: null,
            source: 'redrive',
            redrive_job: 'job-42',
          }),
          tx({ is_fraud: true }),
        ],
      }),
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;');
    expect(html).not.toContain('4000000000000001');
    expect(cells(html)).toEqual([
      [`${'c'.repeat(31)}1`, '—', '—', '— •••• 0001', XSS, '—', '—', '—', 'redrive job job-42'],
      [
        '0b242abb623afc578575680df30655b9',
        '2026-01-15 10:20:30',
        '1234.50',
        'Jennifer Banks •••• 0001',
        'fraud_Rippin, Kub and Mann',
        'misc_net',
        'Moravian Falls, NC',
        'fraud',
        'api',
      ],
    ]);
    expect(render(createElement(LatestTransactions, { rows: [] }))).toContain('No transactions in the database yet.');
  });

  it('shows the sink per shard: counters, last batch age and lag, with totals', () => {
    const html = render(
      createElement(SinkTable, {
        sink: [
          shard({}),
          shard({
            shardId: 'shardId-000000000001',
            applied: 800,
            duplicates: 0,
            rejected: 2,
            batches: 5,
            latencyMs: null,
            idleMs: 125_000,
          }),
        ],
      }),
    );
    expect(cells(html)).toEqual([
      ['oltp-sink', 'shardId-000000000000', '1,200', '3', '0', '7', '12 s ago', '850 ms'],
      ['oltp-sink', 'shardId-000000000001', '800', '0', '2', '5', '2 min ago', '—'],
    ]);
    expect(cells(html, 'tfoot')).toEqual([['all shards', '2,000', '3', '2', '12', '']]);
    expect(render(createElement(SinkTable, { sink: [] }))).toContain('The sink has not applied a batch yet');
  });

  it('shows rows per table, the migration and the failures card linking to the filtered quarantine', () => {
    const status: OltpOverview = {
      server: 'PostgreSQL 17.4',
      migration: { current: 1, latest: 1 },
      tables: { city: 12, address: 40, customer: 41, merchant: 30, transaction: 12_345 },
      sink: [shard({ rejected: 2 }), shard({ shardId: 'shardId-000000000001', rejected: 1 })],
      latest: [],
      quarantine: { open: 2 },
      at: '2026-01-15T10:20:31.000Z',
    };
    const html = render(createElement(OltpKpis, { status }));
    const tiles = [
      ...html.matchAll(
        /data-testid="([^"]+)"[^>]*><dt[^>]*>([^<]*)<\/dt><dd[^>]*class="[^"]*kpi-value[^"]*"[^>]*>(.*?)<\/dd>/g,
      ),
    ].map((m) => [m[1], m[2], m[3]!.replace(/<!-- -->/g, '')]);
    expect(tiles).toEqual([
      ['oltp-rows-transaction', 'Transactions', '12,345'],
      ['oltp-rows-customer', 'Customers', '41'],
      ['oltp-rows-merchant', 'Merchants', '30'],
      ['oltp-rows-address', 'Addresses', '40'],
      ['oltp-rows-city', 'Cities', '12'],
      ['oltp-migration', 'Migration', '1 / 1'],
      ['oltp-failures', 'Failures', '2'],
    ]);
    expect(html).toContain('open in quarantine, stage oltp-sink · 3 quarantined in all');
    expect(html).toMatch(/<a [^>]*href="\/quarantine\?stage=oltp-sink"[^>]*>Review in quarantine →<\/a>/);
    const unknown = render(
      createElement(OltpKpis, {
        status: { ...status, migration: { current: 0, latest: 1 }, quarantine: { open: null, error: 'S3 down' } },
      }),
    );
    expect(unknown).toContain('not migrated: the sink migrates on start, or run tributary db migrate');
    expect(unknown).toContain('open records unknown: S3 down');
  });

  it('tells what to do when the database is unavailable', () => {
    const text = (e: Error, stale: boolean) =>
      render(createElement(OltpUnavailable, { error: e, stale }))
        .replace(/<[^>]+>/g, '')
        .replace(/<!-- -->/g, '');
    expect(
      text(
        new ApiError('Cannot reach the database: connect ECONNREFUSED 127.0.0.1:4570.', 503, 'database_unavailable'),
        false,
      ),
    ).toBe(
      'The OLTP database is unavailable: Cannot reach the database: connect ECONNREFUSED 127.0.0.1:4570.' +
        'Run tributary dev (it starts the sink and its embedded database), or set DATABASE_URL to your Postgres server before starting the console. This page retries every 5 s.',
    );
    expect(text(new Error('Failed to fetch'), true)).toMatch(
      /^Cannot load the OLTP status: Failed to fetch.*set DATABASE_URL.*the figures below are from the last successful read\.$/,
    );
  });

  it('opens the quarantine with the filter of its URL, keeping only values the form can show', () => {
    const choices = { types: ['transactions'], stages: ['ingest', 'oltp-sink'], reasons: ['db_rejected'] };
    expect(filterFromParams({ stage: 'oltp-sink' }, choices)).toEqual({
      type: '',
      stage: 'oltp-sink',
      reason: '',
      status: 'open',
      from: '',
      to: '',
      q: '',
    });
    expect(
      filterFromParams(
        {
          stage: 'nope',
          type: ['transactions', 'x'],
          reason: 'db_rejected',
          status: 'all',
          from: '2026-01-15T10:20:00Z',
          to: 'yesterday',
          q: ' abc ',
        },
        choices,
      ),
    ).toEqual({
      type: 'transactions',
      stage: '',
      reason: 'db_rejected',
      status: 'all',
      from: '2026-01-15T10:20',
      to: '',
      q: 'abc',
    });
  });
});
