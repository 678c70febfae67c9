import { describe, expect, it } from 'vitest';
import { GET as status } from '../../app/api/queries/[id]/route.ts';
import { POST } from '../../app/api/queries/route.ts';

const post = (body: string) =>
  POST(
    new Request('http://127.0.0.1:3000/api/queries', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }),
  );

describe('query routes answer hostile requests with a 4xx that says what to send', () => {
  it.each([
    ['null', 400, /^Send \{"sql": "SELECT …"/],
    ['[1, 2]', 400, /^Send \{"sql"/],
    ['{"sql": "SELECT 1", "params": [1]}', 400, /^"params" must be an object of names and values/],
    ['{"sql": "SELECT 1", "allowFullScan": "yes"}', 400, /^"allowFullScan" must be true or false/],
    ['{"saved": 5}', 400, /^Send \{"sql"/],
    ['{}', 400, /^Send \{"sql"/],
    ['not json', 400, /^Send \{"sql"/],
    ['{"saved": "no_such_query"}', 404, /^No saved query "no_such_query"; saved queries: clickstream_sections, /],
    ['{"sql": "COPY (SELECT 42) TO \'/tmp/x.csv\'"}', 400, /^Only read-only queries run here/],
    [
      '{"sql": "SELECT $$\'$$ AS a) t; COPY (SELECT 42) TO $p$/tmp/x.csv$p$; SELECT * FROM (SELECT $$\'$$ AS b"}',
      400,
      /^The query could not be parsed/,
    ],
    ['{"sql": "SELECT * FROM \'/etc/passwd\'"}', 400, /is not a table of the lake/],
  ])('POST /api/queries %s → %d', async (body, code, message) => {
    const res = await post(body);
    expect(res.status).toBe(code);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('an id that is not a query id is a 404 before anything is read', async () => {
    for (const id of ['../../etc/passwd', 'x'.repeat(300), 'a b']) {
      const res = await status(new Request(`http://127.0.0.1:3000/api/queries/${encodeURIComponent(id)}`), {
        params: Promise.resolve({ id }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'unknown_query' });
    }
  });
});
