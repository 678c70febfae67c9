import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../lib/quarantine/audit.ts';
import { parseFilter } from '../../lib/quarantine/filter.ts';
import { listReadSubject, ReadAudit } from '../../lib/quarantine/read-audit.ts';
import { memoryAws, type MemoryAws } from '../helpers/memory-aws.ts';

const ops = { by: 'sam', role: 'operator' } as const;

describe('the audit of unmasked reads', () => {
  let aws: MemoryAws;
  afterEach(() => aws.restore());

  it('writes one line per reader, surface and subject per 15 minutes, whatever the number of instances and polls', async () => {
    aws = memoryAws();
    let now = new Date('2026-12-02T08:01:00.000Z');
    const instances = [1, 2].map(() => new ReadAudit({ s3: aws.s3, bucket: 'quarantine', now: () => now }));
    for (let poll = 0; poll < 5; poll++) for (const a of instances) await a.record(ops, 'quarantine record', 'q-1');
    await instances[0]!.record(ops, 'quarantine record', 'q-2');
    await instances[1]!.record({ by: 'erin', role: 'operator' }, 'quarantine record', 'q-1');
    now = new Date('2026-12-02T08:16:00.000Z');
    await instances[1]!.record(ops, 'quarantine record', 'q-1');
    const { entries: lines } = await listAudit(aws.s3, 'quarantine', { limit: 100 });
    expect(lines).toHaveLength(4);
    // Newest first: the next window's line, then the three of the first window.
    expect([lines[0]!.by, lines[0]!.action, lines[0]!.at]).toEqual(['sam', 'read', '2026-12-02T08:16:00.000Z']);
    expect(
      lines
        .slice(1)
        .map((l) => `${l.by} ${l.note}`)
        .sort(),
    ).toEqual([
      'erin quarantine record: q-1 (unmasked; one line per 15 minutes)',
      'sam quarantine record: q-1 (unmasked; one line per 15 minutes)',
      'sam quarantine record: q-2 (unmasked; one line per 15 minutes)',
    ]);
  });

  it('lists the reads of one window newest first by their own time, though their keys hold the window', async () => {
    aws = memoryAws();
    let now = new Date('2026-12-02T08:00:30.000Z');
    const audit = new ReadAudit({ s3: aws.s3, bucket: 'quarantine', now: () => now });
    for (const [minute, subject] of [
      [1, 'q-a'],
      [4, 'q-b'],
      [7, 'q-c'],
      [9, 'q-d'],
      [12, 'q-e'],
    ] as const) {
      now = new Date(Date.UTC(2026, 11, 2, 8, minute));
      await audit.record(ops, 'quarantine record', subject);
    }
    const { entries } = await listAudit(aws.s3, 'quarantine', {});
    expect(entries.map((e) => e.subject)).toEqual(['q-e', 'q-d', 'q-c', 'q-b', 'q-a']);
    // Cut at two, the two newest by time, whichever keys of their window they sit in.
    expect((await listAudit(aws.s3, 'quarantine', { limit: 2 })).entries.map((e) => e.subject)).toEqual(['q-e', 'q-d']);
    expect(entries[0]).toMatchObject({ surface: 'quarantine record', qids: ['q-e'] });
  });

  it('names a list read by its filter, the search text withheld and paging left out', () => {
    const subject = (q: string) => listReadSubject(parseFilter(new URLSearchParams(q)));
    expect(subject('q=4000000000000001&type=transactions&offset=50&limit=50')).toBe('type=transactions&qWithheld=16');
    expect(subject('status=all')).toBe('status=all');
    expect(subject('q=%20%20')).toBe('everything');
  });

  it('fails the read when its line cannot be written', async () => {
    aws = memoryAws();
    const audit = new ReadAudit({ s3: aws.s3, bucket: 'quarantine' });
    const send = aws.s3.send.bind(aws.s3);
    aws.s3.send = (async (cmd: unknown) => {
      if (cmd instanceof PutObjectCommand)
        throw Object.assign(new Error('S3 is down'), { $metadata: { httpStatusCode: 503 } });
      return send(cmd as never);
    }) as typeof aws.s3.send;
    await expect(audit.record(ops, 'oltp', 'latest transactions')).rejects.toThrow('S3 is down');
  });
});
