import { afterEach, describe, expect, it } from 'vitest';
import { type AuditEntry, fixDiff, listAudit, namedRecords, writeAudit } from '../../lib/quarantine/audit.ts';
import { parseAuditQuery } from '../../lib/quarantine/requests.ts';
import { Masker, WITHHELD } from '../../lib/masking.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { memoryAws, type MemoryAws } from '../helpers/memory-aws.ts';
import { filterWords } from '../../components/quarantine/filter-words.ts';

const masker = new Masker(defaultRegistry());

describe('a fix as the audit log keeps it', () => {
  it('lists each changed field by JSON pointer, with sensitive values masked even for the operator who edited them', () => {
    const before = { cc_num: '4000123412341234', first: 'Jennifer', amt: 'lots', gender: 'X', tags: ['a'] };
    const after = { cc_num: '4000123412345678', first: 'Jennifer', amt: 4.5, tags: ['a', 'b/c'], 'x~y': 1 };
    const d = fixDiff(
      masker,
      { type: 'transactions', event: JSON.stringify(before) },
      { type: 'transactions', event: JSON.stringify(after) },
    );
    expect(d).toEqual({
      changes: [
        { op: 'replace', path: '/cc_num', from: '•••• 1234', to: '•••• 5678' },
        { op: 'replace', path: '/amt', from: 'lots', to: 4.5 },
        { op: 'remove', path: '/gender', from: 'X' },
        { op: 'add', path: '/tags/1', to: 'b/c' },
        { op: 'add', path: '/x~0y', to: 1 },
      ],
    });
    expect(JSON.stringify(d)).not.toContain('4000123412341234');
    // A card changed in a middle digit still shows as changed, by its path, though its masked form is the same.
    const middle = fixDiff(
      masker,
      { type: 'transactions', event: '{"cc_num":"4000123412341234"}' },
      { type: 'transactions', event: '{"cc_num":"4000993412341234"}' },
    );
    expect(middle.changes).toEqual([{ op: 'replace', path: '/cc_num', from: '•••• 1234', to: '•••• 1234' }]);
  });

  it('records a change of type, a side that is not JSON as one whole-event change, and cuts long values', () => {
    expect(
      fixDiff(
        masker,
        { type: undefined, event: '{"a":' },
        { type: 'transactions', event: '{"cc_num":"4000123412341234"}' },
      ),
    ).toEqual({
      changes: [
        { op: 'replace', path: '(type)', to: 'transactions' },
        { op: 'replace', path: '/', from: '(5 characters, not JSON)', to: { cc_num: '•••• 1234' } },
      ],
    });
    const long = fixDiff(
      masker,
      { type: 'clickstream', event: '{"a":1}' },
      { type: 'clickstream', event: `{"a":"${'z'.repeat(500)}"}` },
    );
    expect(long.changes[0]!.to).toBe(`"${'z'.repeat(198)}…`);
    expect(fixDiff(masker, { type: 't', event: '{"a":1}' }, { type: 't', event: '{"a":1}' })).toEqual({ changes: [] });
  });

  it('never keeps a sensitive value it cannot locate: an unknown or missing type, an array, a scalar', () => {
    const tx = { cc_num: '4000123412341234', first: 'Jennifer', amt: 1 };
    // An unknown_type record fixed to a known type: both sides masked as the type the fix names.
    const named = fixDiff(
      masker,
      { type: 'transaction', event: JSON.stringify({ ...tx, amt: 'x' }) },
      { type: 'transactions', event: JSON.stringify(tx) },
    );
    expect(named.changes).toEqual([
      { op: 'replace', path: '(type)', from: 'transaction', to: 'transactions' },
      { op: 'replace', path: '/amt', from: 'x', to: 1 },
    ]);
    // No type on either side: the values are withheld, the paths still show.
    const untyped = fixDiff(
      masker,
      { event: JSON.stringify(tx) },
      { event: JSON.stringify({ ...tx, first: 'Jenny' }) },
    );
    expect(untyped.changes).toEqual([{ op: 'replace', path: '/first', from: WITHHELD, to: WITHHELD }]);
    // An array edited down to one object (what the re-drive asks for): each element masked.
    const array = fixDiff(
      masker,
      { type: 'transactions', event: JSON.stringify([tx, { ...tx, cc_num: '5000123412345678' }]) },
      { type: 'transactions', event: JSON.stringify(tx) },
    );
    expect(array.changes).toEqual([
      {
        op: 'replace',
        path: '/',
        from: [
          { cc_num: '•••• 1234', first: 'J••••', amt: 1 },
          { cc_num: '•••• 5678', first: 'J••••', amt: 1 },
        ],
        to: { cc_num: '•••• 1234', first: 'J••••', amt: 1 },
      },
    ]);
    for (const d of [named, untyped, array])
      expect(JSON.stringify(d)).not.toMatch(/4000123412341234|5000123412345678|Jennifer|Jenny/);
    expect(
      fixDiff(masker, { type: 'transactions', event: '"4000123412341234"' }, { type: 'transactions', event: '{}' })
        .changes,
    ).toEqual([{ op: 'replace', path: '/', from: WITHHELD, to: {} }]);
  });

  it('names at most 100 records and says how many more', () => {
    const qids = Array.from({ length: 130 }, (_, i) => `q${i}`);
    expect(namedRecords(qids)).toEqual({ qids: qids.slice(0, 100), qidsMore: 30 });
    expect(namedRecords(['a'])).toEqual({ qids: ['a'] });
  });
});

describe('the audit log filters', () => {
  let aws: MemoryAws;
  afterEach(() => aws.restore());

  const entry = (i: number, over: Partial<AuditEntry>): AuditEntry => ({
    id: `e${i}`,
    at: new Date(Date.UTC(2026, 11, 1, 10, i)).toISOString(),
    by: 'sam',
    role: 'operator',
    action: 'redrive',
    selection: 'one',
    requested: 1,
    counts: {},
    ...over,
  });

  it('by action, who, record (named or reached by a job), job and time, newest first, up to the limit', async () => {
    aws = memoryAws();
    const entries = [
      entry(0, { action: 'discard', qids: ['q1', 'q2'] }),
      entry(1, { action: 'redrive', selection: 'filter', filter: { q: 'x' }, job: 'job-a', by: 'Alice' }),
      entry(2, { action: 'export', selection: 'filter', filter: {} }),
      entry(3, { action: 'discard', selection: 'filter', filter: { type: 'transactions' } }),
      entry(4, { action: 'read', subject: 'q9', qids: ['q9'], surface: 'quarantine record' }),
    ];
    for (const e of entries) await writeAudit(aws.s3, 'quarantine', e);
    const ids = async (q: Parameters<typeof listAudit>[2], jobsOf?: (qid: string) => Set<string>) =>
      (await listAudit(aws.s3, 'quarantine', q, jobsOf)).entries.map((e) => e.id);
    expect(await ids({})).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    expect(await ids({ action: 'discard' })).toEqual(['e3', 'e0']);
    expect(await ids({ by: 'alic' })).toEqual(['e1']);
    expect(await ids({ job: 'job-a' })).toEqual(['e1']);
    expect(await ids({ record: 'q2' })).toEqual(['e0']);
    expect(await ids({ record: 'q9' })).toEqual(['e4']);
    // q5 was reached by the filter re-drive job-a and the filter discard e3 (whose ledger job is discard-e3).
    expect(await ids({ record: 'q5' }, (qid) => new Set(qid === 'q5' ? ['job-a', 'discard-e3'] : []))).toEqual([
      'e3',
      'e1',
    ]);
    expect(await ids({ from: entries[1]!.at, to: entries[3]!.at })).toEqual(['e2', 'e1']);
    expect(await ids({ limit: 2 })).toEqual(['e4', 'e3']);
    expect(await ids({ action: 'redrive', by: 'nobody' })).toEqual([]);
    // The cut reads on through the 15-minute window a read line's key may hold (here: every entry).
    expect(await listAudit(aws.s3, 'quarantine', { limit: 1 })).toMatchObject({ scanned: 5, truncated: false });
  });

  it('never keeps a search text, only its length: it can be a card number, and every signed-in user reads the log', async () => {
    aws = memoryAws();
    await writeAudit(
      aws.s3,
      'quarantine',
      entry(0, { selection: 'filter', filter: { q: '4000 0000 0000 0001', status: 'all' } }),
    );
    await writeAudit(
      aws.s3,
      'quarantine',
      entry(1, { selection: 'filter', filter: { q: 'é€😀', type: 'transactions' } }),
    );
    await writeAudit(aws.s3, 'quarantine', entry(2, { selection: 'filter', filter: { type: 'transactions' } }));
    const { entries } = await listAudit(aws.s3, 'quarantine', {});
    expect(entries.map((e) => e.filter)).toEqual([
      { type: 'transactions' },
      { type: 'transactions', qWithheld: '3' },
      { status: 'all', qWithheld: '19' },
    ]);
    expect([...aws.objects.values()].map((o) => o.body.toString()).join('\n')).not.toContain('0001');
    expect(filterWords(entries[2]!.filter!)).toBe('any status · text contains a search of 19 characters (withheld)');
  });

  it('reads its filters from the URL and refuses what it cannot use, saying what to send', () => {
    expect(
      parseAuditQuery(new URLSearchParams('action=read&by=sam&record=q1&job=j&from=2026-12-01&to=2026-12-02')),
    ).toEqual({
      limit: 100,
      action: 'read',
      by: 'sam',
      record: 'q1',
      job: 'j',
      from: '2026-12-01T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
    });
    expect(() => parseAuditQuery(new URLSearchParams('action=delete'))).toThrow(
      'Unknown action "delete"; use one of redrive, discard, export, read.',
    );
    expect(() => parseAuditQuery(new URLSearchParams('from=yesterday'))).toThrow(/"from" must be an ISO-8601 date/);
    expect(() => parseAuditQuery(new URLSearchParams('from=2026-12-02&to=2026-12-01'))).toThrow(/must be before/);
    expect(() => parseAuditQuery(new URLSearchParams(`by=${'x'.repeat(201)}`))).toThrow(
      '"by" is at most 200 characters.',
    );
  });
});

describe('a stored filter in words', () => {
  it('reads as a sentence, in the order it was given, and is empty for no filter', () => {
    expect(
      filterWords({ stage: 'lake-writer', status: 'open', from: '2026-11-25T00:00:00.000Z', q: '/gender', extra: 'x' }),
    ).toBe(
      'stage is lake-writer · status is open · quarantined from 2026-11-25 00:00 · text contains “/gender” · extra is x',
    );
    expect(filterWords({ status: 'all', to: '2026-11-25T10:30:15.000Z' })).toBe(
      'any status · quarantined before 2026-11-25 10:30:15',
    );
    expect(filterWords({})).toBe('');
  });
});
