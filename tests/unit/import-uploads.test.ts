/**
 * The console's uploads (lib/imports/uploads.ts): what is refused before anything is signed, and what the presigned
 * PUT binds (one key, one length, no checksum of a body it has not seen).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { presigningS3Client } from '../../lib/aws/clients.ts';
import { loadConfig } from '../../lib/config.ts';
import { TableRegistry } from '../../lib/imports/tables.ts';
import { readUploadRequest, uploadTarget } from '../../lib/imports/uploads.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

const deps = { tables: new TableRegistry(), types: defaultRegistry() };
const exportOf = (over: Record<string, unknown> = {}) => ({
  kind: 'export',
  tenant: 'acme',
  table: 'example',
  version: '20201230_V0001',
  file: 'part-0.csv.gz',
  size: 1234,
  ...over,
});
const refusal = (v: unknown) => {
  try {
    readUploadRequest(v, deps);
  } catch (err) {
    return [(err as { status: number }).status, (err as Error).message];
  }
  return 'accepted';
};

describe('an upload request', () => {
  it('goes to its drop location, keeping only the file’s name', () => {
    expect(readUploadRequest(exportOf({ file: 'C:\\Users\\sam\\part-0.csv.gz' }), deps).key).toBe(
      'exports/acme/example/20201230_V0001/part-0.csv.gz',
    );
    expect(
      readUploadRequest({ kind: 'raw', type: 'clickstream', file: '../../etc/clicks.ndjson', size: 0 }, deps).key,
    ).toBe('raw/clickstream/clicks.ndjson');
  });

  it('is refused with what to give: names, size, table, type, kind', () => {
    expect(refusal(exportOf({ file: '..' }))[0]).toBe(400);
    expect(refusal(exportOf({ file: 'a\u0000b.csv' }))[0]).toBe(400);
    expect(refusal(exportOf({ file: 'x'.repeat(256) }))[0]).toBe(400);
    expect(refusal(exportOf({ size: -1 }))).toEqual([400, 'Give the file\'s size in bytes ("size", a whole number).']);
    expect(refusal(exportOf({ size: 1.5 }))[0]).toBe(400);
    expect(refusal(exportOf({ size: 5 * 1024 ** 3 + 1 }))[0]).toBe(413);
    expect(refusal(exportOf({ table: 'nosuch' }))[0]).toBe(404);
    expect(String(refusal(exportOf({ table: 'nosuch' }))[1])).toContain('tables/nosuch.json');
    expect(refusal(exportOf({ tenant: 'a/b' }))[0]).toBe(400);
    expect(refusal(exportOf({ version: 'v 1' }))[0]).toBe(400);
    expect(refusal({ kind: 'raw', type: 'nosuch', file: 'a.csv', size: 1 })).toEqual([
      404,
      'Unknown event type "nosuch"; raw files are of a type in schemas/: clickstream, taxi_trips, transactions.',
    ]);
    expect(refusal({ file: 'a.csv', size: 1 })).toEqual([
      400,
      'Say what the file is: "kind" is "export" (a table export) or "raw" (raw event file).',
    ]);
  });
});

describe('the presigned PUT', () => {
  for (const mode of ['local', 'aws'] as const) {
    it(`${mode}: signs the key and the length, for 15 minutes, with no checksum of an empty body`, async () => {
      // Any credentials sign; the URL is checked, not sent.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLE');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
      const base = loadConfig({});
      const config = mode === 'local' ? base : { ...base, mode, endpoints: undefined };
      const now = new Date('2026-12-02T10:00:00.000Z');
      const target = await uploadTarget(
        { ...deps, s3: presigningS3Client(config), bucket: 'tributary-imports', now: () => now },
        exportOf(),
      );
      const url = new URL(target.url);
      expect(url.pathname).toMatch(/\/exports\/acme\/example\/20201230_V0001\/part-0\.csv\.gz$/);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      expect(target).toMatchObject({ method: 'PUT', expiresAt: '2026-12-02T10:15:00.000Z' });
    });
  }
});
