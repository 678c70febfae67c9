import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../lib/envelope.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { post, readLake, removeDir, sendTransactions, startTestRuntime, tempDir, waitFor } from '../integration/helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'e2e-console-password';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** With UPDATE_SCREENSHOTS=1 the pages are saved for the README (docs/screenshots/). */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
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

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. .ci/run installs it.`);
    dir = tempDir('e2e-sql');
    // A tiny guard limit, so an unfiltered scan of the test data is refused in the browser.
    process.env.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB = '0.001';
    // With a password set, the local console requires sign-in like the deployed one.
    process.env.TRIBUTARY_CONSOLE_PASSWORD = PASSWORD;
    rt = await startTestRuntime(dir, { console: true, ports: { api: 0, kinesis: 0, s3: 0, console: await freePort() } });
    await sendTransactions(rt, 600, 5);
    // Known validation failures for the schemas page: three bad genders, two amounts that are not numbers.
    const bad = [1, 2, 3].map((i) => ({ trans_num: `${i}`.padStart(32, 'a'), cc_num: '4000000000000001', gender: 'X' }));
    bad.push(...[4, 5].map((i) => ({ trans_num: `${i}`.padStart(32, 'b'), cc_num: '4000000000000001', amt: 'lots' }) as never));
    const res = await post(rt, 'transactions', JSON.stringify(bad));
    expect(res.json.rejected).toBe(5);
    rows = (await waitFor(() => readLake(rt.config), (l) => l.rows.length >= 600)).rows;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // next dev compiles the page on the first request. Signing in returns to the page asked for.
    await page.goto(`${rt.consoleUrl}/sql`, { waitUntil: 'networkidle', timeout: 150_000 });
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Console password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${rt.consoleUrl}/sql`, { timeout: 150_000 });
    await page.waitForLoadState('networkidle');
    // ...and each route handler on its first call: compile them now, not inside a test's time.
    for (const route of ['/api/queries/warm-up', '/api/queries/warm-up/results', '/api/queries/warm-up/csv', '/api/schemas', '/api/stream/shards']) await page.request.get(`${rt.consoleUrl}${route}`);
  }, 300_000);

  afterAll(async () => {
    delete process.env.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB;
    delete process.env.TRIBUTARY_CONSOLE_PASSWORD;
    await browser?.close();
    await rt?.stop();
    removeDir(dir);
  });

  it('requires sign-in for every page and route, refuses a wrong password and signs out', async () => {
    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      await p.goto(`${rt.consoleUrl}/schemas?x=1`, { waitUntil: 'networkidle', timeout: 150_000 });
      expect(p.url()).toBe(`${rt.consoleUrl}/login?next=%2Fschemas%3Fx%3D1`);
      const api = await p.request.get(`${rt.consoleUrl}/api/catalog`);
      expect(api.status()).toBe(401);
      expect(await api.json()).toEqual({ error: 'Sign in first: POST /api/login with the console password.', code: 'unauthenticated' });
      await p.getByLabel('Console password').fill('not-the-password');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => p.getByRole('alert').textContent(), { timeout: 60_000 }).toBe('Wrong password.');
      const login = await p.request.post(`${rt.consoleUrl}/api/login`, { data: { password: PASSWORD } });
      expect(await login.json()).toEqual({ role: 'operator' });
      expect((await p.request.get(`${rt.consoleUrl}/api/catalog`)).status()).toBe(200);
      await p.goto(`${rt.consoleUrl}/schemas`, { waitUntil: 'networkidle' });
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.waitForURL(`${rt.consoleUrl}/login`);
      expect((await p.request.get(`${rt.consoleUrl}/api/catalog`)).status()).toBe(401);
    } finally {
      await anon.close();
    }
  }, 240_000);

  it('runs SQL from the editor and shows rows, status, bytes and cost, a chart and a CSV download', async () => {
    await replaceSql(page, "SELECT category, count(*) AS n FROM transactions WHERE dt >= '2026-01-01' GROUP BY category ORDER BY category");
    await page.keyboard.press('Control+Enter');
    const status = page.getByTestId('query-status');
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toMatch(/^SUCCEEDED · .* scanned · \$0\.0000\d+ at Athena's price · \d+ rows/);
    const byCategory = new Map<string, number>();
    for (const r of rows) {
      const c = (r.data as { category: string }).category;
      byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    }
    const expected = [...byCategory].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => [c, String(n)]);
    const cells = () => page.getByTestId('results').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    await expect.poll(cells, { timeout: 60_000 }).toEqual(expected);
    await expect.poll(() => page.locator('figure.chart .recharts-bar-rectangle').count()).toBe(expected.length);
    const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await (await page.request.get(`${rt.consoleUrl}${href}`)).text();
    expect(csv.split('\r\n').slice(0, 2)).toEqual(['category,n', `${expected[0]![0]},${expected[0]![1]}`]);
  }, 240_000);

  it('shows the partition-filter guard message inline and runs a saved query from its parameter form', async () => {
    await replaceSql(page, 'SELECT count(*) FROM transactions');
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect.poll(() => page.getByTestId('query-error').textContent(), { timeout: 30_000 }).toMatch(/reads all of transactions .* Add a filter on dt, e\.g\. WHERE dt = '2026-01-1\d'/);

    await page.getByRole('button', { name: 'top_merchants' }).click();
    await page.getByLabel('period from').fill('2026-01-01');
    await page.getByLabel('period to').fill('2026-01-31');
    await page.getByLabel('limit (number)').fill('3');
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect.poll(() => page.getByTestId('query-status').textContent(), { timeout: 120_000 }).toMatch(/^SUCCEEDED .* 3 rows/);
    const stats = new Map<string, { n: number; amt: number }>();
    for (const r of rows) {
      const d = r.data as { merchant: string; amt: number };
      const s = stats.get(d.merchant) ?? { n: 0, amt: 0 };
      s.n++;
      s.amt += d.amt;
      stats.set(d.merchant, s);
    }
    const top = [...stats].sort(([am, a], [bm, b]) => b.n - a.n || b.amt - a.amt || am.localeCompare(bm)).slice(0, 3).map(([m]) => m);
    await expect.poll(() => page.getByTestId('results').locator('tbody tr td:nth-child(2)').allTextContents(), { timeout: 30_000 }).toEqual(top);
    // The history lists both runs, the saved one by name.
    await expect.poll(() => page.locator('table.history tbody tr').allTextContents()).toContainEqual(expect.stringContaining('[top_merchants]'));
    await shot(page, 'sql');
  }, 240_000);

  it('shows a type manifest and JSON Schema and its validation failures per field', async () => {
    await page.goto(`${rt.consoleUrl}/schemas`, { waitUntil: 'networkidle', timeout: 150_000 });
    await page.getByRole('button', { name: 'transactions', exact: true }).click();
    const schema = JSON.parse((await page.getByTestId('schema').textContent())!) as { title: string; required: string[] };
    expect(schema.title).toBe('transactions v1');
    expect(schema.required).toEqual(['trans_num', 'cc_num']);
    const failures = () => page.getByTestId('failures').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
    await expect.poll(failures, { timeout: 120_000 }).toEqual([
      ['v1', '/gender', 'enum', '3'],
      ['v1', '/amt', 'type', '2'],
    ]);
    await shot(page, 'schemas');
  }, 240_000);

  it('lists the shards and browses the newest records of one, pretty and raw', async () => {
    await page.goto(`${rt.consoleUrl}/stream`, { waitUntil: 'networkidle', timeout: 150_000 });
    await expect.poll(() => page.getByTestId('shards').locator('tbody tr').count(), { timeout: 60_000 }).toBe(2);
    expect(await page.getByTestId('shards').locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['open', 'open']);
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
    await shot(page, 'stream');
  }, 240_000);
});
