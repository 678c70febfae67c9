import { afterEach, describe, expect, it } from 'vitest';
import { SavedViewError, SavedViews } from '../../lib/console/saved-views.ts';
import { memoryAws, type MemoryAws } from '../helpers/memory-aws.ts';

const erin = { by: 'erin', role: 'viewer' } as const;
const olu = { by: 'olu', role: 'viewer' } as const;
const ops = { by: 'sam', role: 'operator' } as const;
const at = new Date('2026-12-02T08:00:00.000Z');

describe('saved views', () => {
  let aws: MemoryAws;
  afterEach(() => aws.restore());
  const views = () => new SavedViews({ s3: aws.s3, bucket: 'athena-results', now: () => at });
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SavedViewError);
    const e = err as SavedViewError;
    return [e.status, e.code, e.message];
  };

  it('keeps a filter per page under a name, shared by every console instance, listed by name', async () => {
    aws = memoryAws();
    const a = await views().save(
      { page: 'quarantine', name: ' sink failures ', query: 'stage=oltp-sink&status=all' },
      erin,
    );
    expect(a).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      page: 'quarantine',
      name: 'sink failures',
      query: 'stage=oltp-sink&status=all',
      by: 'erin',
      at: '2026-12-02T08:00:00.000Z',
    });
    await views().save({ page: 'quarantine', name: 'Bad genders', query: '?q=%2Fgender' }, olu);
    await views().save({ page: 'stream', name: 'shard one', query: 'shard=shardId-000000000001&raw=1' }, olu);
    // Another instance (a new SavedViews on the same bucket) sees the same views.
    expect((await views().list('quarantine')).map((v) => [v.name, v.query, v.by])).toEqual([
      ['Bad genders', 'q=%2Fgender', 'olu'],
      ['sink failures', 'stage=oltp-sink&status=all', 'erin'],
    ]);
    expect((await views().list('stream')).map((v) => v.name)).toEqual(['shard one']);
    expect(aws.keys('athena-results')).toEqual(expect.arrayContaining([`views/quarantine/${a.id}.json`]));
    expect(aws.keys('athena-results')).toHaveLength(3);
  });

  it('gives a name to one view per page: a second save of it (any case, at the same time) is a 409', async () => {
    aws = memoryAws();
    const both = await Promise.allSettled([
      views().save({ page: 'quarantine', name: 'Mine', query: 'stage=ingest' }, erin),
      views().save({ page: 'quarantine', name: 'mine', query: 'stage=lake-writer' }, olu),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect([lost.reason.status, lost.reason.code]).toEqual([409, 'view_exists']);
    expect(lost.reason.message).toMatch(
      /^A quarantine view named "[Mm]ine" exists: choose another name, or delete it first\.$/,
    );
    expect(await views().list('quarantine')).toHaveLength(1);
    // The same name on another page is another view.
    await views().save({ page: 'stream', name: 'mine', query: '' }, erin);
  });

  it('refuses what is not a page, a name or a filter of that page, saying what to send', async () => {
    aws = memoryAws();
    expect(await refusal(views().save({ page: 'sql', name: 'x', query: '' }, erin))).toEqual([
      400,
      'bad_view',
      '"page" must be one of quarantine, stream (the pages that have saved views).',
    ]);
    expect(await refusal(views().save({ page: 'quarantine', name: '  ', query: '' }, erin))).toEqual([
      400,
      'bad_view',
      '"name" must be 1 to 80 characters of text, without control characters.',
    ]);
    expect((await refusal(views().save({ page: 'quarantine', name: 'a\nb', query: '' }, erin)))[1]).toBe('bad_view');
    expect(
      await refusal(
        views().save({ page: 'quarantine', name: 'x', query: 'stage=ingest&record=abc&job=j&record=d' }, erin),
      ),
    ).toEqual([
      400,
      'bad_view',
      'A saved quarantine view holds only its filter (type, stage, reason, status, from, to, q); drop record, job.',
    ]);
    expect((await refusal(views().save({ page: 'stream', name: 'x', query: 'x'.repeat(2_001) }, erin)))[1]).toBe(
      'bad_view',
    );
    expect((await refusal(views().list('../etc')))[0]).toBe(400);
    expect(aws.keys('athena-results')).toEqual([]);
  });

  it('is deleted by its author or an operator, not by another viewer; an unknown one is a 404', async () => {
    aws = memoryAws();
    const v = await views().save({ page: 'quarantine', name: 'mine', query: '' }, erin);
    expect(await refusal(views().remove('quarantine', v.id, olu))).toEqual([
      403,
      'view_forbidden',
      '"mine" was saved by erin: only they or an operator may delete it.',
    ]);
    await views().remove('quarantine', v.id, erin);
    expect(await views().list('quarantine')).toEqual([]);
    const w = await views().save({ page: 'quarantine', name: 'theirs', query: '' }, olu);
    await views().remove('quarantine', w.id, ops);
    expect(aws.keys('athena-results')).toEqual([]);
    expect((await refusal(views().remove('quarantine', w.id, ops)))[0]).toBe(404);
    expect((await refusal(views().remove('quarantine', '../../x', ops)))[0]).toBe(404);
  });
});
