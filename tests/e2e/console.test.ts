import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { getJsonOrNull } from '../../lib/aws/s3.ts';
import { MIGRATIONS } from '../../lib/oltp/migrations.ts';
import { SHORTCUTS } from '../../components/ui/shortcuts.ts';
import type { Envelope } from '../../lib/envelope.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from '../integration/db.ts';
import {
  post,
  readLake,
  removeDir,
  sendTransactions,
  startTestRuntime,
  tempDir,
  waitFor,
} from '../integration/helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BROKEN = [1, 2, 3, 4].map((i) => {
  const data = {
    trans_num: `${i}`.padStart(32, 'c'),
    cc_num: '4000000000000009',
    trans_date_trans_time: '2026-02-20 10:00:00',
    amt: i,
  };
  return {
    id: data.trans_num,
    type: 'transactions',
    received_at: '2026-02-20T10:00:01.000Z',
    event_time: '2026-02-20T10:00:00.000Z',
    source: 'producer',
    data,
  };
});
const PASSWORD = 'e2e-console-password';
const VIEWER_PASSWORD = 'e2e-viewer-password';
const XSS = '<img src=x onerror="window.__xss=1">';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port for the console, below Linux's ephemeral range (32768–60999): a port the kernel hands out there can be
 * taken as the local end of one of the runtime's many outgoing connections (pollers, the OLTP sink's pool) in the
 * seconds before `next dev` binds it.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
}

/** With UPDATE_SCREENSHOTS=1 the pages are saved for the README (docs/screenshots/), light and dark. */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const scheme = await page.locator('html').getAttribute('data-mantine-color-scheme');
  for (const s of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: s });
    await expect.poll(() => page.locator('html').getAttribute('data-mantine-color-scheme')).toBe(s);
    // From the top: a full-page capture of a scrolled page draws the fixed header where the view was.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `docs/screenshots/${name}${s === 'dark' ? '-dark' : ''}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: scheme === 'dark' ? 'dark' : 'light' });
}

/**
 * axe-core's findings on the page as it is, serious and critical only (WCAG 2 A/AA and best practices), each as
 * "rule: what is wrong — where"; the console must have none.
 */
async function accessibilityProblems(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${v.help} — ${n.target.join(' ')} (${n.failureSummary ?? ''})`));
}

async function replaceSql(page: Page, sql: string): Promise<void> {
  const editor = page.getByTestId('sql-editor');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(sql);
}

describe('console in Chromium against tributary dev', () => {
  let rt: DevRuntime;
  let dir: string;
  let browser: Browser;
  let page: Page;
  let rows: Envelope[];
  let db: TestDatabase;
  // trans_nums of every transactions event the suite puts on the stream: what the OLTP sink must have applied.
  let sent: string[];
  const redriven: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. .ci/run installs it.`,
      );
    dir = tempDir('e2e-sql');
    // A tiny guard limit (10 KB), so a scan of all the test transactions is refused in the browser.
    process.env.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB = '0.01';
    // With a password set, the local console requires sign-in like the deployed one.
    process.env.TRIBUTARY_CONSOLE_PASSWORD = PASSWORD;
    process.env.TRIBUTARY_CONSOLE_VIEWER_PASSWORD = VIEWER_PASSWORD;
    // The OLTP sink on a database of its own (on DATABASE_URL's server when set, else an embedded PGlite).
    db = await testDatabase('e2e');
    rt = await startTestRuntime(dir, {
      console: true,
      oltp: true,
      databaseUrl: db.url,
      ports: { api: 0, kinesis: 0, s3: 0, console: await freePort() },
    });
    // A producer writing to the stream itself with envelopes that lack "v": the lake writer quarantines them (before the
    // API traffic, so the newest records of each shard stay valid ones for the stream test).
    await awsClients(rt.config).kinesis.send(
      new PutRecordsCommand({
        StreamName: rt.config.streamName,
        Records: BROKEN.map((b) => ({ Data: Buffer.from(JSON.stringify(b)), PartitionKey: b.id })),
      }),
    );
    sent = await sendTransactions(rt, 600, 5);
    // Known validation failures for the schemas page: three bad genders, two amounts that are not numbers.
    // The bad genders carry markup in a text field: the console must show it as text, never run it.
    const bad = [1, 2, 3].map((i) => ({
      trans_num: `${i}`.padStart(32, 'a'),
      cc_num: '4000000000000001',
      merchant: XSS,
      gender: 'X',
    }));
    bad.push(
      ...[4, 5].map((i) => ({ trans_num: `${i}`.padStart(32, 'b'), cc_num: '4000000000000001', amt: 'lots' }) as never),
    );
    const res = await post(rt, 'transactions', JSON.stringify(bad));
    expect(res.json.rejected).toBe(5);
    rows = (
      await waitFor(
        () => readLake(rt.config),
        (l) => l.rows.length >= 600 && l.quarantine.length >= 4,
      )
    ).rows;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    // A context of its own: axe-core's runner needs the page's context.
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    // The console serves its production build (built by startDev when its sources changed). Signing in returns to the
    // page asked for.
    await page.goto(`${rt.consoleUrl}/sql`, { waitUntil: 'networkidle', timeout: 150_000 });
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Your name').fill('erin');
    await page.getByLabel('Console password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click({ timeout: 150_000 });
    await page.waitForURL(`${rt.consoleUrl}/sql`, { timeout: 150_000 });
    await page.waitForLoadState('networkidle', { timeout: 150_000 });
    // Each route handler once, so their first answers (and the console's indexes) are ready before the tests.
    for (const route of [
      '/api/queries/warm-up',
      '/api/queries/warm-up/results',
      '/api/queries/warm-up/csv',
      '/api/schemas',
      '/api/stream/shards',
      '/api/quarantine',
      '/api/quarantine/counts',
      '/api/quarantine/jobs',
      '/api/quarantine/x',
      '/api/quarantine/jobs/x',
      '/api/audit',
      '/api/metrics/shards?range=15m',
      '/api/metrics/pipeline?range=15m',
      '/api/metrics/freshness',
      '/api/oltp',
      '/api/imports',
    ])
      await page.request.get(`${rt.consoleUrl}${route}`, { timeout: 150_000 });
  }, 300_000);

  afterAll(async () => {
    delete process.env.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB;
    delete process.env.TRIBUTARY_CONSOLE_PASSWORD;
    delete process.env.TRIBUTARY_CONSOLE_VIEWER_PASSWORD;
    await browser?.close();
    await rt?.stop();
    await db?.drop();
    removeDir(dir);
  });

  it("shows every page's first content, and reports how long each first load took", async () => {
    const pages: [string, string][] = [
      ['/', 'Overview'],
      ['/stream', 'Stream'],
      ['/quarantine', 'Quarantine'],
      ['/schemas', 'Schemas'],
      ['/audit', 'Audit log'],
      ['/oltp', 'OLTP database'],
      ['/imports', 'Imports'],
      ['/sql', 'SQL workspace'],
    ];
    const loading = () =>
      page
        .locator('[role="status"]')
        .filter({ hasText: /Loading|Counting|Listing/ })
        .count();
    const firstLoad: Record<string, number> = {};
    const answered: Record<string, number> = {};
    for (const [path, title] of pages) {
      const started = Date.now();
      await page.goto(`${rt.consoleUrl}${path}`, { waitUntil: 'commit' });
      await expect.poll(() => page.locator('h1').first().textContent(), { timeout: 60_000 }).toBe(title);
      firstLoad[path] = Date.now() - started;
      // Each page is timed on its own, as a user opening it finds the console: the previous page's requests done.
      await expect.poll(loading, { timeout: 60_000 }).toBe(0);
      answered[path] = Date.now() - started;
      await page.waitForLoadState('networkidle');
    }
    // A report, not a limit (timings on this machine are noisy): the README and the closing notes quote it.
    console.log(`first load, ms (production build): ${JSON.stringify(firstLoad)}`);
    console.log(`first answers in, ms (no loading state left): ${JSON.stringify(answered)}`);
    // Every page, in the light and the dark scheme, once its first answers are in: no serious or critical finding.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [path] of pages) {
        await page.goto(`${rt.consoleUrl}${path}`, { waitUntil: 'networkidle' });
        await expect.poll(loading, { timeout: 60_000 }).toBe(0);
        expect(await page.locator('html').getAttribute('data-mantine-color-scheme'), path).toBe(scheme);
        expect(await accessibilityProblems(page), `${path} (${scheme})`).toEqual([]);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // The Overview's counts arrive after its first content, streamed in by the same response.
    await page.goto(`${rt.consoleUrl}/`);
    await expect.poll(() => page.locator('#summary').textContent(), { timeout: 60_000 }).toBe('Pipeline');
  }, 240_000);

  it('requires sign-in for every page and route, refuses a wrong password and signs out', async () => {
    const anon = await browser.newContext();
    // What a script must send with a state-changing request (a browser sends Origin itself).
    const own = { origin: rt.consoleUrl! };
    try {
      const p = await anon.newPage();
      await p.goto(`${rt.consoleUrl}/schemas?x=1`, { waitUntil: 'networkidle', timeout: 150_000 });
      expect(p.url()).toBe(`${rt.consoleUrl}/login?next=%2Fschemas%3Fx%3D1`);
      const api = await p.request.get(`${rt.consoleUrl}/api/catalog`);
      expect(api.status()).toBe(401);
      expect(await api.json()).toEqual({
        error: 'Sign in first: POST /api/login with the console password.',
        code: 'unauthenticated',
      });
      await p.getByLabel('Console password').fill('not-the-password');
      await p.getByRole('button', { name: 'Sign in' }).click();
      // The form's alert (Next's route announcer is an alert too, and empty).
      const alert = p.getByRole('alert').filter({ hasText: /\S/ });
      await expect.poll(() => alert.textContent(), { timeout: 60_000 }).toBe('Wrong password.');
      await shot(p, 'login');
      // Each failure is counted against the address the console's wrapper took from the socket, whatever the client
      // claims: two more failures that claim other addresses land on 127.0.0.1's counter (3 failures in all).
      for (const claimed of ['10.9.8.7', '10.9.8.6']) {
        const wrong = await p.request.post(`${rt.consoleUrl}/api/login`, {
          data: { password: 'still-wrong' },
          headers: { ...own, 'x-tributary-client-ip': claimed },
        });
        expect([wrong.status(), await wrong.json()]).toEqual([401, { error: 'Wrong password.', code: 'bad_password' }]);
      }
      const counter = await getJsonOrNull<{ n: number }>(
        awsClients(rt.config).s3,
        rt.config.buckets.athenaResults,
        `console/throttle/client/${createHash('sha256').update('127.0.0.1').digest('hex').slice(0, 32)}.json`,
      );
      expect(counter?.n).toBe(3);
      // Sign-in takes JSON or the form, nothing else, and only from the console's own pages.
      const plain = await p.request.post(`${rt.consoleUrl}/api/login`, {
        data: `password=${PASSWORD}`,
        headers: { ...own, 'content-type': 'text/plain' },
      });
      expect([plain.status(), ((await plain.json()) as { code: string }).code]).toEqual([400, 'bad_content_type']);
      const foreign = await p.request.post(`${rt.consoleUrl}/api/login`, {
        data: { password: PASSWORD },
        headers: { origin: 'https://evil.example' },
      });
      expect([foreign.status(), ((await foreign.json()) as { code: string }).code]).toEqual([403, 'cross_site']);
      const login = await p.request.post(`${rt.consoleUrl}/api/login`, { data: { password: PASSWORD }, headers: own });
      expect(await login.json()).toEqual({ role: 'operator' });
      // The right password gave its attempt back: the failures stay at 3.
      expect(
        (
          await getJsonOrNull<{ n: number }>(
            awsClients(rt.config).s3,
            rt.config.buckets.athenaResults,
            `console/throttle/client/${createHash('sha256').update('127.0.0.1').digest('hex').slice(0, 32)}.json`,
          )
        )?.n,
      ).toBe(3);
      expect((await p.request.get(`${rt.consoleUrl}/api/catalog`)).status()).toBe(200);
      // Signed in, a state change from another site is still refused, and so is one that is not JSON.
      const csrf = await p.request.post(`${rt.consoleUrl}/api/quarantine/discard`, {
        data: { qids: ['x'], reason: 'csrf' },
        headers: { origin: 'https://evil.example' },
      });
      expect([csrf.status(), ((await csrf.json()) as { code: string }).code]).toEqual([403, 'cross_site']);
      const form = await p.request.post(`${rt.consoleUrl}/api/quarantine/discard`, {
        form: { qids: 'x', reason: 'form' },
        headers: own,
      });
      expect([form.status(), ((await form.json()) as { code: string }).code]).toEqual([415, 'bad_content_type']);
      // Signing out revokes the session: the cookie, kept and sent again, no longer works.
      const cookie = (await anon.cookies()).find((c) => c.name === 'tributary_session')!.value;
      await p.goto(`${rt.consoleUrl}/schemas`, { waitUntil: 'networkidle' });
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.waitForURL(`${rt.consoleUrl}/login`);
      const replayed = await fetch(`${rt.consoleUrl}/api/catalog`, {
        headers: { cookie: `tributary_session=${cookie}` },
      });
      expect(replayed.status).toBe(401);
      // A viewer reads but may not re-drive, discard or export; a forged role header changes nothing.
      expect(
        await (
          await p.request.post(`${rt.consoleUrl}/api/login`, { data: { password: VIEWER_PASSWORD }, headers: own })
        ).json(),
      ).toEqual({ role: 'viewer' });
      expect((await p.request.get(`${rt.consoleUrl}/api/quarantine`)).status()).toBe(200);
      expect((await p.request.get(`${rt.consoleUrl}/api/oltp`)).status()).toBe(200);
      // Masking: nothing a viewer can read holds a card number, a name or a street of the data sent, whatever the
      // route (the quarantine list and each record, both shards' records from the start, the OLTP page's rows).
      const secrets = new Set<string>(['4000000000000001', '4000000000000009']);
      for (const r of rows) {
        const d = r.data as Record<string, unknown>;
        for (const k of ['cc_num', 'first', 'last', 'street'])
          if (typeof d[k] === 'string' && d[k]) secrets.add(d[k] as string);
      }
      const bodies: [string, string][] = [];
      const read = async (path: string, init?: { data: unknown }) => {
        const res = init
          ? await p.request.post(`${rt.consoleUrl}${path}`, { data: init.data, headers: own })
          : await p.request.get(`${rt.consoleUrl}${path}`);
        expect(res.status(), path).toBe(200);
        bodies.push([path, await res.text()]);
        return JSON.parse(bodies.at(-1)![1]) as unknown;
      };
      const list = (await read('/api/quarantine?status=all&limit=500')) as { items: { qid: string }[] };
      // A viewer's search looks only in what they see: a card number finds nothing for them, and records for an operator.
      expect(((await read('/api/quarantine?status=all&q=4000000000000001')) as { total: number }).total).toBe(0);
      const opSearch = await page.request.get(`${rt.consoleUrl}/api/quarantine?status=all&q=4000000000000001`);
      expect(((await opSearch.json()) as { total: number }).total).toBeGreaterThan(0);
      // That search and an operator's export of it are in the audit log, which a viewer reads, without its text.
      const exported = await page.request.get(
        `${rt.consoleUrl}/api/quarantine/export?format=jsonl&status=all&q=4000000000000001`,
      );
      expect(exported.status()).toBe(200);
      expect(await exported.text()).toContain('4000000000000001');
      const log = (await read('/api/audit?limit=500')) as {
        entries: { action: string; surface?: string; subject?: string; filter?: Record<string, string> }[];
      };
      expect(log.entries.filter((e) => e.action === 'export').map((e) => e.filter)).toContainEqual({
        status: 'all',
        qWithheld: '16',
      });
      expect(log.entries.filter((e) => e.surface === 'quarantine list').map((e) => e.subject)).toContain(
        'status=all&qWithheld=16',
      );
      await read('/api/quarantine/jobs');
      expect(list.items.length).toBeGreaterThanOrEqual(9);
      for (const i of list.items) await read(`/api/quarantine/${i.qid}`);
      for (const shard of ['shardId-000000000000', 'shardId-000000000001'])
        await read(`/api/stream/shards/${shard}/records?from=timestamp&at=2000-01-01T00:00:00Z&limit=10000`);
      await read('/api/oltp?latest=100');
      // The Schemas page's own query (errors of quarantined records, no payloads) is a viewer's to read.
      await read('/api/schemas/failures?period=2000-01-01..2030-12-31');
      const tip = (await read('/api/stream/tail', { data: {} })) as { cursor: string };
      await read('/api/stream/tail', { data: { cursor: tip.cursor } });
      // SQL: an operator's query past the guard, opened by the viewer from its link: the columns come back masked,
      // in the page and the CSV.
      const run = (await (
        await page.request.post(`${rt.consoleUrl}/api/queries`, {
          data: {
            sql: "SELECT cc_num, first, last, street, amt FROM transactions WHERE dt >= '2026-01-01' LIMIT 50",
            allowFullScan: true,
          },
          headers: own,
        })
      ).json()) as { id: string };
      await expect
        .poll(
          async () =>
            ((await (await p.request.get(`${rt.consoleUrl}/api/queries/${run.id}`)).json()) as { state: string }).state,
          {
            timeout: 60_000,
          },
        )
        .toBe('SUCCEEDED');
      const masked = (await read(`/api/queries/${run.id}/results`)) as { rows: unknown[][] };
      expect(masked.rows.length).toBeGreaterThan(0);
      bodies.push(['csv', await (await p.request.get(`${rt.consoleUrl}/api/queries/${run.id}/csv`)).text()]);
      const leaked = bodies.flatMap(([path, body]) =>
        [...secrets].filter((v) => body.includes(v)).map((v) => `${path}: ${v}`),
      );
      expect(leaked).toEqual([]);
      // …and the masked forms are there: the last four digits of the cards.
      expect(bodies.some(([, b]) => b.includes('•••• 0001'))).toBe(true);
      const forged = { ...own, 'x-tributary-role': 'operator' };
      const refused = await p.request.post(`${rt.consoleUrl}/api/quarantine/redrive`, {
        data: { filter: {} },
        headers: forged,
      });
      expect([refused.status(), ((await refused.json()) as { code: string }).code]).toEqual([403, 'forbidden']);
      expect(
        (
          await p.request.post(`${rt.consoleUrl}/api/quarantine/discard`, {
            data: { filter: {}, reason: 'x' },
            headers: own,
          })
        ).status(),
      ).toBe(403);
      expect((await p.request.get(`${rt.consoleUrl}/api/quarantine/export?format=csv`)).status()).toBe(403);
      // …nor lift the SQL scan guard: the route refuses it, the workspace does not offer it.
      const lift = await p.request.post(`${rt.consoleUrl}/api/queries`, {
        data: { sql: 'SELECT count(*) FROM transactions', allowFullScan: true },
        headers: own,
      });
      expect([lift.status(), ((await lift.json()) as { error: string }).error]).toEqual([
        403,
        'Only an operator can lift the scan guard (allowFullScan). Narrow the query with a filter on dt instead, or ask an operator to run it.',
      ]);
      await p.goto(`${rt.consoleUrl}/sql`, { waitUntil: 'networkidle', timeout: 150_000 });
      await expect
        .poll(() => p.getByText('Viewer: only an operator can run a query past the scan guard.').count())
        .toBe(1);
      expect(await p.getByLabel('allow a full scan').count()).toBe(0);
      await p.goto(`${rt.consoleUrl}/quarantine`, { waitUntil: 'networkidle', timeout: 150_000 });
      expect(await p.getByRole('button', { name: /^Re-drive all/ }).count()).toBe(0);
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.waitForURL(`${rt.consoleUrl}/login`);
      expect((await p.request.get(`${rt.consoleUrl}/api/catalog`)).status()).toBe(401);
    } finally {
      await anon.close();
    }
  }, 240_000);

  it('runs SQL from the editor and shows rows, status, bytes and cost, a chart and a CSV download', async () => {
    await page.goto(`${rt.consoleUrl}/sql`);
    // All the test data is more than the tiny guard limit: the operator lifts the guard (before typing, so the editor
    // keeps the focus for Ctrl+Enter).
    await page.getByLabel('allow a full scan').check();
    await replaceSql(
      page,
      "SELECT category, count(*) AS n FROM transactions WHERE dt >= '2026-01-01' GROUP BY category ORDER BY category",
    );
    await page.keyboard.press('Control+Enter');
    const status = page.getByTestId('query-status');
    await expect
      .poll(() => status.textContent(), { timeout: 120_000 })
      .toMatch(/^SUCCEEDED · .* scanned · \$0\.0000\d+ at Athena's price · \d+ rows/);
    const byCategory = new Map<string, number>();
    for (const r of rows) {
      const c = (r.data as { category: string }).category;
      byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    }
    const expected = [...byCategory].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => [c, String(n)]);
    const cells = () =>
      page
        .getByTestId('results')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    await expect.poll(cells, { timeout: 60_000 }).toEqual(expected);
    await expect.poll(() => page.locator('figure.chart .recharts-bar-rectangle').count()).toBe(expected.length);
    // The run is the URL's: opened from its link in another tab, it shows the same SQL, status and rows.
    const runId = new URL(page.url()).searchParams.get('query');
    expect(runId).toMatch(/\S/);
    const other = await page.context().newPage();
    await other.goto(`${rt.consoleUrl}/sql?query=${runId}`);
    await expect
      .poll(() => other.getByTestId('query-status').textContent(), { timeout: 60_000 })
      .toMatch(/^SUCCEEDED · /);
    await expect
      .poll(
        () =>
          other
            .getByTestId('results')
            .locator('tbody tr')
            .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))),
        { timeout: 60_000 },
      )
      .toEqual(expected);
    expect(await other.getByTestId('sql-editor').textContent()).toContain('GROUP BY category ORDER BY category');
    await other.close();
    const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await (await page.request.get(`${rt.consoleUrl}${href}`)).text();
    expect(csv.split('\r\n').slice(0, 2)).toEqual(['category,n', `${expected[0]![0]},${expected[0]![1]}`]);
  }, 240_000);

  it('shows the partition-filter guard message inline and runs a saved query from its parameter form', async () => {
    await page.getByLabel('allow a full scan').uncheck();
    await replaceSql(page, 'SELECT count(*) FROM transactions');
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect
      .poll(() => page.getByTestId('query-error').textContent(), { timeout: 30_000 })
      .toMatch(
        /^This query would scan about .* Add a filter on dt to the WHERE of the SELECT that reads transactions, e\.g\. WHERE dt = '2026-01-1\d'/,
      );

    await page.getByRole('button', { name: 'top_merchants' }).click();
    await page.getByLabel('period from').fill('2026-01-01');
    await page.getByLabel('period to').fill('2026-01-31');
    await page.getByLabel('limit (number)').fill('3');
    await page.getByLabel('allow a full scan').check();
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect
      .poll(() => page.getByTestId('query-status').textContent(), { timeout: 120_000 })
      .toMatch(/^SUCCEEDED .* 3 rows/);
    const stats = new Map<string, { n: number; amt: number }>();
    for (const r of rows) {
      const d = r.data as { merchant: string; amt: number };
      const s = stats.get(d.merchant) ?? { n: 0, amt: 0 };
      s.n++;
      s.amt += d.amt;
      stats.set(d.merchant, s);
    }
    const top = [...stats]
      .sort(([am, a], [bm, b]) => b.n - a.n || b.amt - a.amt || am.localeCompare(bm))
      .slice(0, 3)
      .map(([m]) => m);
    await expect
      .poll(() => page.getByTestId('results').locator('tbody tr td:nth-child(2)').allTextContents(), {
        timeout: 30_000,
      })
      .toEqual(top);
    // The history lists both runs, the saved one by name, each with who ran it (the name given at sign-in).
    await expect
      .poll(() => page.locator('table.history tbody tr').allTextContents())
      .toContainEqual(expect.stringMatching(/^[\d-]+ [\d:]+erinSUCCEEDED.*\[top_merchants\]/));
    await shot(page, 'sql');
    expect(await accessibilityProblems(page)).toEqual([]);
  }, 240_000);

  it('shows a type manifest and JSON Schema and its validation failures per field', async () => {
    await page.goto(`${rt.consoleUrl}/schemas`, { waitUntil: 'networkidle', timeout: 150_000 });
    await page.getByRole('button', { name: 'transactions', exact: true }).click();
    // The type picked is the URL's: a link to ?type=transactions opens the same.
    await expect.poll(() => new URL(page.url()).searchParams.get('type')).toBe('transactions');
    const schemaText = () => page.getByTestId('schema').textContent();
    await expect
      .poll(async () => (JSON.parse((await schemaText())!) as { title: string }).title)
      .toBe('transactions v1');
    const schema = JSON.parse((await schemaText())!) as { title: string; required: string[] };
    expect(schema.required).toEqual(['trans_num', 'cc_num']);
    const failures = () =>
      page
        .getByTestId('failures')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
    await expect.poll(failures, { timeout: 120_000 }).toEqual([
      ['v1', '/gender', 'enum', '3'],
      ['v1', '/amt', 'type', '2'],
    ]);
    await shot(page, 'schemas');
  }, 240_000);

  it('lists the shards and browses the newest records of one, pretty and raw', async () => {
    await page.goto(`${rt.consoleUrl}/stream`, { waitUntil: 'networkidle', timeout: 150_000 });
    await expect.poll(() => page.getByTestId('shards').locator('tbody tr').count(), { timeout: 60_000 }).toBe(2);
    expect(await page.getByTestId('shards').locator('tbody tr td:nth-child(2)').allTextContents()).toEqual([
      'open',
      'open',
    ]);
    await page.getByRole('button', { name: 'shardId-000000000001' }).click();
    await page.getByLabel('Number of records').fill('5');
    await page.getByRole('button', { name: 'Read', exact: true }).click();
    await expect.poll(() => page.getByTestId('records-count').textContent(), { timeout: 120_000 }).toBe('5 records');
    const first = await page.getByTestId('records').locator('pre').first().textContent();
    const env = JSON.parse(first!) as { type: string; id: string };
    expect(env.type).toBe('transactions');
    expect(rows.some((r) => r.id === env.id)).toBe(true);
    expect(first).toContain('\n  "type": "transactions"');
    await page.getByLabel('raw').check();
    expect(await page.getByTestId('records').locator('pre').first().textContent()).not.toContain('\n');
    // The full hash-key range of each shard.
    expect(await page.getByTestId('shards').locator('tbody tr td:nth-child(3)').first().textContent()).toMatch(
      /^0 – \d{30,}$/,
    );

    // The live tail: started, it shows what is accepted from then on, newest on top; paused, it keeps its place.
    const tailed = () =>
      page
        .getByTestId('tail-records')
        .locator('.record-id')
        .allTextContents()
        .catch(() => [] as string[]);
    const firstPoll = page.waitForResponse((r) => r.url().endsWith('/api/stream/tail'));
    await page.getByTestId('tail-toggle').click();
    await firstPoll;
    const live = await sendTransactions(rt, 3, 41);
    sent.push(...live);
    const accepted = Date.now();
    await expect.poll(async () => (await tailed()).sort(), { timeout: 30_000 }).toEqual([...live].sort());
    // A report, not a limit: from the API's acknowledgement to the rows on the page.
    console.log(`live tail: records shown ${Date.now() - accepted} ms after they were accepted`);
    await page.getByTestId('tail-toggle').click();
    await expect.poll(() => page.getByTestId('tail-count').textContent()).toMatch(/^Paused · 3 shown of 3 kept/);
    const later = await sendTransactions(rt, 2, 42);
    sent.push(...later);
    await page.getByTestId('tail-toggle').click();
    await expect.poll(async () => (await tailed()).length, { timeout: 30_000 }).toBe(5);
    expect((await tailed()).slice(0, 2).sort()).toEqual([...later].sort());
    await page.getByLabel('Search the tail').fill(later[0]!);
    await expect.poll(tailed).toEqual([later[0]]);
    await page.getByTestId('tail-toggle').click();
    await shot(page, 'stream');
  }, 240_000);

  it('charts per-shard metrics and shows the pipeline indicators on the overview', async () => {
    await page.goto(`${rt.consoleUrl}/`, { waitUntil: 'networkidle', timeout: 150_000 });
    // Both shards took records: one line each in the IncomingRecords and OutgoingRecords charts.
    for (const metric of ['IncomingRecords', 'OutgoingRecords']) {
      await expect
        .poll(() => page.getByTestId(`shard-chart-${metric}`).locator('.recharts-line').count(), { timeout: 120_000 })
        .toBe(2);
    }
    await expect
      .poll(() => page.getByTestId('kpi-quarantine').locator('.kpi-value').textContent(), { timeout: 60_000 })
      .toBe('9');
    // Each consumer's lag per shard: a line per shard, and the worst one now as a tile.
    for (const consumer of ['lake-writer', 'oltp-sink']) {
      await expect
        .poll(() => page.getByTestId(`lag-chart-${consumer}`).locator('.recharts-line').count(), { timeout: 120_000 })
        .toBe(2);
    }
    await expect
      .poll(() => page.getByTestId('kpi-lag').locator('.kpi-value').textContent(), { timeout: 60_000 })
      .toMatch(/^\d+ (ms|s|min|h)$/);
    expect(await page.getByTestId('kpi-lag').locator('dd').last().textContent()).toMatch(
      /^(lake-writer|oltp-sink|import-applier) on shardId-00000000000[01], its newest batch$/,
    );
    await page.getByRole('button', { name: '14 d' }).click();
    await expect
      .poll(() => page.getByTestId('lag-chart-lake-writer').locator('.recharts-line').count(), { timeout: 60_000 })
      .toBe(2);
    await page.getByRole('button', { name: '1 h' }).click();
    expect(await page.getByRole('button', { name: '1 h' }).getAttribute('aria-pressed')).toBe('true');
    await expect
      .poll(() => page.getByTestId('shard-chart-IncomingRecords').locator('.recharts-line').count(), {
        timeout: 60_000,
      })
      .toBe(2);
    await shot(page, 'overview');
  }, 240_000);

  it('keyboard: the palette jumps to a shard and a saved query; shortcuts change pages, walk records, show help and switch the scheme', async () => {
    await page.goto(`${rt.consoleUrl}/schemas`, { waitUntil: 'networkidle' });
    const palette = page.getByLabel('Command palette', { exact: true });
    const action = (text: string) => page.locator('.mantine-Spotlight-action', { hasText: text }).first();
    await page.keyboard.press('Control+K');
    await palette.fill('shardId-000000000001');
    // The shard itself (its list arrives once the palette is open), not the search for the text typed.
    await action('open shard of').filter({ hasText: 'shardId-000000000001' }).click();
    await page.waitForURL(`${rt.consoleUrl}/stream?shard=shardId-000000000001`);
    await expect
      .poll(() => page.getByRole('button', { name: 'shardId-000000000001' }).getAttribute('aria-pressed'))
      .toBe('true');
    // J moves to the next shard (there is none after the last), K back to the first.
    await page.keyboard.press('k');
    await expect.poll(() => new URL(page.url()).searchParams.get('shard')).toBe('shardId-000000000000');
    await page.keyboard.press('Control+K');
    await palette.fill('top_merch');
    await action('top_merchants').click();
    await expect.poll(() => page.getByLabel('period from').count(), { timeout: 60_000 }).toBe(1);
    expect(new URL(page.url()).pathname).toBe('/sql');

    // Alt 6: the sixth page of the sidebar; J / K walk its records, Esc closes the one open.
    await page.keyboard.press('Alt+6');
    await page.waitForURL(`${rt.consoleUrl}/quarantine`);
    const rows = page.getByTestId('q-table').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(9);
    const qids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-qid')));
    const open = () => new URL(page.url()).searchParams.get('record');
    await page.keyboard.press('j');
    await expect.poll(open).toBe(qids[0]);
    await page.keyboard.press('j');
    await expect.poll(open).toBe(qids[1]);
    await expect.poll(() => page.getByTestId('record-detail').count()).toBe(1);
    await page.keyboard.press('k');
    await expect.poll(open).toBe(qids[0]);
    await page.keyboard.press('Escape');
    await expect.poll(open).toBeNull();
    // "/" puts the cursor in the filter.
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-filter-focus'))).toBe(true);
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    // "?" lists every shortcut; Shift T switches the scheme and back.
    await page.keyboard.press('Shift+?');
    await expect.poll(() => page.getByTestId('shortcuts').locator('tbody tr').count()).toBe(SHORTCUTS.length);
    await page.keyboard.press('Escape');
    const scheme = () => page.locator('html').getAttribute('data-mantine-color-scheme');
    const before = await scheme();
    await page.keyboard.press('Shift+T');
    await expect.poll(scheme).toBe(before === 'dark' ? 'light' : 'dark');
    await page.keyboard.press('Shift+T');
    await expect.poll(scheme).toBe(before);
    // Back to following the system (the Theme menu), as the rest of the suite expects.
    await page.getByRole('button', { name: 'Colour scheme' }).click();
    await page.getByText('Follow the system', { exact: true }).click();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(scheme).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(scheme).toBe('light');
  }, 240_000);

  it('quarantine: filter, fix one in the editor, re-drive all matching; the rows reach the lake and the audit log', async () => {
    await page.goto(`${rt.consoleUrl}/quarantine`, { waitUntil: 'networkidle', timeout: 150_000 });
    const total = page.getByTestId('q-total');
    await expect.poll(() => total.textContent(), { timeout: 60_000 }).toBe('1–9 of 9 matching');
    await page.getByLabel('Text').fill('/gender');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–3 of 3 matching');
    // The filter is the URL's: a reload (or the link pasted elsewhere) shows the same list and form.
    expect(new URL(page.url()).searchParams.get('q')).toBe('/gender');
    await page.reload();
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–3 of 3 matching');
    expect(await page.getByLabel('Text').inputValue()).toBe('/gender');
    // Saved under a name, the filter comes back with one click after a reset (and is there for the whole team).
    await page.getByRole('button', { name: 'Save this view' }).click();
    await page.getByLabel('View name').fill('gender failures');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Saved views (1)' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–9 of 9 matching');
    await page.getByRole('button', { name: 'Saved views (1)' }).click();
    await page.getByRole('menuitem', { name: /^gender failures/ }).click();
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–3 of 3 matching');
    expect(new URL(page.url()).searchParams.get('q')).toBe('/gender');

    // The record's error is highlighted at its path in the payload; a payload is text, never markup.
    await page.getByTestId('q-table').locator('tbody tr').first().getByRole('button').click();
    const detail = page.getByTestId('record-detail');
    await expect
      .poll(() => detail.locator('.j-mark').first().textContent(), { timeout: 120_000 })
      .toMatch(/^"gender": "X",? ← must be one of "M", "F", null$/);
    const id = (await detail.locator('#detail-title code').textContent())!;
    // So is the open record: the same link opens it again.
    const qid = new URL(page.url()).searchParams.get('record');
    expect(await page.getByTestId('q-table').locator('tbody tr').first().getAttribute('data-qid')).toBe(qid);
    await page.reload();
    await expect.poll(() => detail.locator('#detail-title code').textContent(), { timeout: 60_000 }).toBe(id);
    await expect.poll(() => detail.locator('.j-mark').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await detail.getByTestId('payload-view').textContent()).toContain(`"merchant": ${JSON.stringify(XSS)}`);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await detail.locator('img').count()).toBe(0);
    const editor = page.getByTestId('fix-editor');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      JSON.stringify({ trans_num: id, cc_num: '4000000000000001', merchant: XSS, gender: 'Q' }),
    );
    await expect
      .poll(() => page.getByTestId('fix-check').textContent(), { timeout: 30_000 })
      .toMatch(/^\/gender must be one of/);
    await page.keyboard.press('Control+A');
    // With a category, so its merchant (the markup) gets a merchant row and the OLTP page shows it.
    await page.keyboard.insertText(
      JSON.stringify({
        trans_num: id,
        trans_date_trans_time: '2026-02-21 09:00:00',
        cc_num: '4000000000000001',
        merchant: XSS,
        category: 'misc_net',
        gender: 'F',
      }),
    );
    await expect
      .poll(() => page.getByTestId('fix-check').textContent(), { timeout: 30_000 })
      .toBe('✓ valid against transactions v1');
    await shot(page, 'quarantine');
    // The busiest view (a record open beside the list, the editor, the jobs) has no serious accessibility finding.
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Re-drive fixed record' }).click();
    const firstJob = page.getByTestId('jobs').locator('tbody tr').first();
    await expect.poll(() => firstJob.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    redriven.push(id);
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–2 of 2 matching');

    // Every record of one stage: the broken envelopes the lake writer quarantined.
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Stage').selectOption('lake-writer');
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('1–4 of 4 matching');
    await page.getByRole('button', { name: 'Re-drive all 4 matching' }).click();
    // It asks first, saying what it would do now: 4 records, all valid again (the lake writer refused only envelopes).
    await expect
      .poll(() => page.getByTestId('confirm-summary').textContent(), { timeout: 30_000 })
      .toBe('4 records: 4 would go back on the stream, 0 would fail validation again and be quarantined again.');
    await page.getByRole('button', { name: 'Re-drive 4 records' }).click();
    const jobCells = async () => (await firstJob.locator('td').allTextContents()).slice(1).map((t) => t.trim());
    // by, selection, status, progress, accepted, failed again, skipped, rate/s
    await expect
      .poll(jobCells, { timeout: 60_000 })
      .toEqual([
        'erin',
        'where stage is lake-writer · status is open',
        'succeeded',
        '4/4',
        '4',
        '0',
        '0',
        '500',
        'outcomes',
      ]);
    redriven.push(...BROKEN.map((b) => b.id));
    // The job just started shows its per-record outcomes.
    await expect
      .poll(() => page.getByTestId('job-outcomes').locator('tbody td:nth-child(2)').allTextContents(), {
        timeout: 30_000,
      })
      .toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    await expect.poll(() => total.textContent(), { timeout: 30_000 }).toBe('No records match.');

    // The SQL workspace finds them in the lake, with their original ids (once the lake writer has written them).
    const want = [...BROKEN.map((b) => b.id), id].sort().map((i) => [i, 'redrive']);
    await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.filter((r) => r.source === 'redrive').length >= want.length,
    );
    await page.goto(`${rt.consoleUrl}/sql`, { waitUntil: 'networkidle', timeout: 150_000 });
    await page.getByLabel('allow a full scan').check();
    await replaceSql(
      page,
      "SELECT id, source FROM transactions WHERE dt >= '2026-01-01' AND source = 'redrive' ORDER BY id",
    );
    await page.keyboard.press('Control+Enter');
    const cells = () =>
      page
        .getByTestId('results')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    await expect.poll(cells, { timeout: 120_000 }).toEqual(want);

    await page.goto(`${rt.consoleUrl}/audit`, { waitUntil: 'networkidle', timeout: 150_000 });
    const audit = () =>
      page
        .getByTestId('audit')
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 6).map((td) => td.textContent?.trim())),
        );
    const job = (n: string) => expect.stringMatching(new RegExp(`^succeeded: ${n} accepted · job [0-9a-f]{8}…$`));
    await expect
      .poll(async () => (await audit()).filter((r) => r[1] !== 'read'), { timeout: 60_000 })
      .toEqual([
        ['erin (operator)', 'redrive', 'every record where stage is lake-writer · status is open', '4', job('4')],
        ['erin (operator)', 'redrive', qid, '1', job('1')],
        // The export of a card-number search (the masking test): its search is never in the log, only its length.
        [
          'erin (operator)',
          'export',
          'every record where any status · text contains a search of 16 characters (withheld)',
          '5',
          '5 exported',
        ],
      ]);
    // The operator's unmasked reads are there too: the record opened for fixing among them.
    expect(await audit()).toContainEqual(['erin (operator)', 'read', `quarantine record: ${qid}`, '1', '—']);
    // The fix as a diff: the field the operator changed, and the card number masked even for them.
    const diff = page.getByTestId('audit-diff');
    await diff.locator('summary').click();
    // The card number is the same before and after, so it is not in the diff at all.
    expect(await diff.textContent()).toBe(
      `diff: 3 fields in 1 record${qid}/gender "X" → "F"/trans_date_trans_time added "2026-02-21 09:00:00"/category added "misc_net"`,
    );
    // Its own filters, kept in the URL: the record's id finds the read and the re-drive that fixed it.
    await page.getByLabel('Record id').fill(qid!);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(async () => (await audit()).map((r) => r[1]), { timeout: 30_000 })
      .toEqual(expect.arrayContaining(['redrive', 'read']));
    // One re-drive, and the record's reads: one line per 15-minute window, so two when the test spans a window's end.
    // Polled: the log refreshes itself, and a read between two renders can see it half drawn.
    let kinds: string[] = [];
    await expect
      .poll(
        async () => {
          kinds = (await audit()).map((r) => r[1]!);
          return [kinds.filter((k) => k === 'redrive').length, kinds.filter((k) => k !== 'redrive' && k !== 'read')];
        },
        { timeout: 30_000 },
      )
      .toEqual([1, []]);
    const reads = kinds.filter((k) => k === 'read');
    expect(reads.length === 1 || reads.length === 2).toBe(true);
    await expect.poll(() => new URL(page.url()).searchParams.get('record')).toBe(qid);
    await page.getByLabel('Action').selectOption('read');
    await expect.poll(async () => (await audit()).map((r) => r[1]), { timeout: 30_000 }).toEqual(reads);
    await page.reload();
    await expect.poll(async () => (await audit()).map((r) => r[1]), { timeout: 30_000 }).toEqual(reads);
    expect(await page.getByLabel('Record id').inputValue()).toBe(qid);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(async () => (await audit()).length, { timeout: 30_000 }).toBeGreaterThan(2);
    await shot(page, 'audit');
  }, 600_000);

  // After the quarantine test: its re-drives are the newest transactions, with known trans_nums and jobs.
  it('OLTP: exact rows per table, the sink per shard, the newest transactions as text, failures linked to the quarantine', async () => {
    // Every distinct transaction the suite put on the stream valid: the API's and the re-driven ones.
    const expected = new Set([...sent, ...redriven]).size;
    expect(redriven).toHaveLength(1 + BROKEN.length);
    await page.goto(`${rt.consoleUrl}/oltp`, { waitUntil: 'networkidle', timeout: 150_000 });
    // The page refreshes itself every 5 s until the sink has applied the last re-driven events.
    await expect
      .poll(() => page.getByTestId('oltp-rows-transaction').locator('.kpi-value').textContent(), { timeout: 120_000 })
      .toBe(expected.toLocaleString('en-US'));
    expect(await page.getByTestId('oltp-migration').locator('.kpi-value').textContent()).toBe(
      `${MIGRATIONS.length} / ${MIGRATIONS.length}`,
    );
    // Nothing the suite sent is refused by the database.
    expect(await page.getByTestId('oltp-failures').locator('.kpi-value').textContent()).toBe('0');

    const sink = await page
      .getByTestId('oltp-sink')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(sink.map((r) => r.slice(0, 2))).toEqual([
      ['oltp-sink', 'shardId-000000000000'],
      ['oltp-sink', 'shardId-000000000001'],
    ]);
    expect(sink.reduce((a, r) => a + Number(r[2]!.replace(/,/g, '')), 0)).toBe(expected);
    expect(sink.map((r) => r[4])).toEqual(['0', '0']);
    for (const r of sink)
      expect(r.slice(6)).toEqual([expect.stringMatching(/ ago$/), expect.stringMatching(/^\d+ (ms|s|min)$/)]);

    // The re-driven events are the newest by their own time (February 2026; the rest is from January): each with its
    // re-drive job; the markup in a merchant name is text.
    const jobs = (
      (await (await page.request.get(`${rt.consoleUrl}/api/quarantine/jobs`)).json()) as {
        jobs: { id: string; selection: string; filter?: Record<string, string> }[];
      }
    ).jobs;
    const byFilter = jobs.find((j) => j.filter?.stage === 'lake-writer')!.id;
    const one = jobs.find((j) => j.selection === 'one')!.id;
    const row = async (transNum: string) =>
      (await page.getByTestId('oltp-latest').locator(`tr[data-trans-num="${transNum}"] td`).allTextContents()).map(
        (t) => t.trim(),
      );
    expect(await row(BROKEN[0]!.id)).toEqual([
      BROKEN[0]!.id,
      '2026-02-20 10:00:00',
      '1.00',
      '— •••• 0009',
      '—',
      '—',
      '—',
      '—',
      `redrive job ${byFilter}`,
    ]);
    expect(await row(redriven[0]!)).toEqual([
      redriven[0],
      '2026-02-21 09:00:00',
      '—',
      '— •••• 0001',
      XSS,
      'misc_net',
      '—',
      '—',
      `redrive job ${one}`,
    ]);
    expect(await page.getByTestId('oltp-latest').locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await shot(page, 'oltp');

    // The failures card opens the quarantine filtered to what the database refused.
    await page.getByRole('link', { name: 'Review in quarantine →' }).click();
    await page.waitForURL(`${rt.consoleUrl}/quarantine?stage=oltp-sink`, { timeout: 150_000 });
    expect(await page.getByLabel('Stage').inputValue()).toBe('oltp-sink');
    await expect.poll(() => page.getByTestId('q-total').textContent(), { timeout: 60_000 }).toBe('No records match.');
  }, 300_000);
  it('Imports: uploads export versions and a raw file, shows each on its table’s timeline, approves a held one, lists refused rows', async () => {
    await page.goto(`${rt.consoleUrl}/imports`, { waitUntil: 'networkidle', timeout: 150_000 });
    await expect.poll(() => page.getByTestId('imports-empty').count(), { timeout: 60_000 }).toBe(1);
    const exportOf = (rows: string[][]) => gzipSync(`${rows.map((r) => r.join(';')).join('\n')}\n`);
    const uploadExport = async (version: string, name: string, buffer: Buffer) => {
      await page.getByLabel('Tenant').fill('acme');
      await page.getByLabel('Export version').fill(version);
      await page.locator('input[type="file"]').setInputFiles({ name, mimeType: 'application/gzip', buffer });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await expect
        .poll(() => page.getByTestId('upload-done').textContent(), { timeout: 60_000 })
        .toContain(`exports/acme/example/${version}/${name}`);
    };
    const item = (version: string) => page.locator(`[data-testid="import-item"][data-version="${version}"]`);

    // The first export: three rows, NULLs as empty fields; published, then applied by the applier.
    await uploadExport(
      '20201230_V0001',
      'part-0.csv.gz',
      exportOf([
        ['K1', 'one', '', ''],
        ['K2', 'two', 'x', ''],
        ['K3', 'three', '', 'y'],
      ]),
    );
    await expect.poll(() => item('20201230_V0001').getAttribute('data-status'), { timeout: 60_000 }).toBe('published');
    await expect
      .poll(() => item('20201230_V0001').getByTestId('import-applied').textContent(), { timeout: 60_000 })
      .toBe('applied to Postgres');
    expect(await item('20201230_V0001').getByTestId('import-counts').textContent()).toBe(
      '+3 inserts · ~0 updates · −0 deletes · 0 unchanged · first export',
    );
    await expect.poll(() => page.getByTestId('import-table-rows').textContent(), { timeout: 60_000 }).toBe('3');

    // The next one deletes two of three rows: held by the delete guard until an operator decides.
    await uploadExport('20201231_V0001', 'part-0.csv.gz', exportOf([['K1', 'one again', '', '']]));
    await expect.poll(() => item('20201231_V0001').getAttribute('data-status'), { timeout: 60_000 }).toBe('held');
    expect(await item('20201231_V0001').getByTestId('import-counts').textContent()).toBe(
      '+0 inserts · ~1 updates · −2 deletes · 0 unchanged · against 20201230_V0001',
    );
    expect(await page.getByTestId('kpi-import-held').locator('.kpi-value').textContent()).toBe('1');
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'imports');
    await item('20201231_V0001').getByRole('button', { name: 'Approve 20201231_V0001' }).click();
    await expect
      .poll(() => item('20201231_V0001').getByTestId('import-applied').textContent(), { timeout: 60_000 })
      .toBe('applied to Postgres');
    expect(await item('20201231_V0001').textContent()).toContain('approved by erin');
    await expect.poll(() => page.getByTestId('import-table-rows').textContent(), { timeout: 60_000 }).toBe('1');

    // A file with a row of two columns is refused as a whole, its row listed with its line.
    await uploadExport('20210101_V0001', 'bad.csv.gz', gzipSync('K1;a;;\nK2;b\n'));
    await expect.poll(() => item('20210101_V0001').getAttribute('data-status'), { timeout: 60_000 }).toBe('refused');
    expect(
      await item('20210101_V0001').getByTestId('import-bad-rows').locator('tbody tr td').allTextContents(),
    ).toEqual(['2', '—', 'Expected Number of Columns: 4 Found: 2', 'K2;b']);

    // A raw event file: one valid click, one without its event id (quarantined).
    await page.getByText('Raw event file', { exact: true }).click();
    await page.getByRole('combobox', { name: 'Event type' }).click();
    await page.getByRole('option', { name: 'clickstream' }).click();
    const clicks = [
      { metadata: { uuid: 'e2e-c1', section: 'home' }, payload: { session_time: '2.3' } },
      { metadata: { section: 'home' }, payload: {} },
    ];
    await page.locator('input[type="file"]').setInputFiles({
      name: 'clicks.ndjson',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(clicks.map((c) => JSON.stringify(c)).join('\n')),
    });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const raw = page.getByTestId('raw-files').locator('tr[data-key="raw/clickstream/clicks.ndjson"]');
    await expect.poll(() => raw.getAttribute('data-status'), { timeout: 60_000 }).toBe('loaded');
    expect((await raw.locator('td').allTextContents()).slice(4, 7)).toEqual(['1', '1', '0']);

    // The operations of a version open in the SQL workspace, filtered to its day, tenant and version.
    await item('20201230_V0001')
      .getByRole('link', { name: 'Operations of 20201230_V0001 in the SQL workspace' })
      .click();
    await page.waitForURL(`${rt.consoleUrl}/sql`, { timeout: 60_000 });
    await expect
      .poll(() => page.getByTestId('sql-editor').textContent(), { timeout: 60_000 })
      .toContain("AND tributary_version = '20201230_V0001'");
  }, 300_000);
});
