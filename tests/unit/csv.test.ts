import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { QuarantineService } from '../../lib/quarantine/service.ts';
import type { QuarantineIndex } from '../../lib/quarantine/quarantine-index.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { csvText } from '../../lib/util/csv.ts';

describe('CSV: well-kept writer, no formula injection', () => {
  const cols = [
    { name: 'text', numeric: false },
    { name: 'n', numeric: true },
  ];
  it('prefixes every text cell a spreadsheet would run as a formula, and keeps numbers numbers', () => {
    const hostile = [
      '=HYPERLINK("http://x","y")',
      '+1+2',
      '-2+3',
      '@SUM(A1)',
      '\tTAB',
      '\rCR',
      '＝1+1',
      '=1',
      'plain',
      ' =spaced',
    ];
    const csv = csvText(
      cols,
      hostile.map((h, i) => [h, i % 2 ? -i : i]),
    );
    const rows = parseCsv(csv, { relax_quotes: true }) as string[][];
    expect(rows[0]).toEqual(['text', 'n']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([
      '\'=HYPERLINK("http://x","y")',
      "'+1+2",
      "'-2+3",
      "'@SUM(A1)",
      "'\tTAB",
      "'\rCR",
      "'＝1+1",
      "'=1",
      'plain',
      ' =spaced',
    ]);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['0', '-1', '2', '-3', '4', '-5', '6', '-7', '8', '-9']);
  });
  it('writes RFC 4180 (CRLF, quotes doubled), nested values as JSON, booleans as words, big integers exactly', () => {
    expect(
      csvText(
        [{ name: 'a' }, { name: 'b', numeric: true }, { name: 'c' }],
        [
          ['x,"y"', 1, true],
          [null, '-9007199254740993', false],
          [{ k: [1] }, null, null],
        ],
      ),
    ).toBe('a,b,c\r\n"x,""y""",1,true\r\n,-9007199254740993,false\r\n"{""k"":[1]}",,\r\n');
    expect(csvText(cols, [['-5', '-5']], { header: false })).toBe("'-5,-5\r\n");
  });
  it('the quarantine export writes through it', async () => {
    const s3 = new S3Client({ region: 'eu-west-1' });
    mockClient(s3).on(PutObjectCommand).resolves({});
    const record = {
      id: 'e1',
      stage: 'ingest',
      reason: 'schema_violation',
      type: 'transactions',
      v: 1,
      received_at: 'r',
      quarantined_at: 'q',
      attempts: 1,
      source: 'api',
      errors: [{ path: '/merchant', keyword: 'type', message: '=bad' }],
      payload_encoding: 'utf8',
      payload: '=cmd|" /C calc"!A0',
    };
    const index = {
      ensureFresh: async () => {},
      matching: function* () {
        yield { qid: 'a.0', status: 'open', record };
      },
    } as unknown as QuarantineIndex;
    const svc = new QuarantineService({
      registry: defaultRegistry(),
      kinesis: {} as never,
      s3,
      streamName: 's',
      bucket: 'q',
      index,
    });
    let csv = '';
    for await (const c of svc.export({}, 'csv', { by: 'olga', role: 'operator' })) csv += c;
    const rows = parseCsv(csv) as string[][];
    expect(rows[0]).toEqual([
      'qid',
      'status',
      'id',
      'stage',
      'reason',
      'type',
      'v',
      'received_at',
      'quarantined_at',
      'attempts',
      'source',
      'errors',
      'payload_encoding',
      'payload',
    ]);
    expect(rows[1]).toEqual([
      'a.0',
      'open',
      'e1',
      'ingest',
      'schema_violation',
      'transactions',
      '1',
      'r',
      'q',
      '1',
      'api',
      JSON.stringify(record.errors),
      'utf8',
      '\'=cmd|" /C calc"!A0',
    ]);
  });
});
