/** The producer (lib/produce/producer.ts) against a fake ingest API: batching, the rate, exact counts. */
import { describe, expect, it } from 'vitest';
import { produce, type OutgoingEvent } from '../../lib/produce/producer.ts';

const events = (n: number): OutgoingEvent[] =>
  Array.from({ length: n }, (_, i) => ({ text: JSON.stringify({ n: i }), index: i }));

/** An ingest API that accepts everything, noting when each request arrived and how many events it held. */
function fakeApi() {
  const requests: { at: number; events: number }[] = [];
  const fetchImpl = (async (_url: string, init: { body: string }) => {
    const lines = init.body.split('\n');
    requests.push({ at: Date.now(), events: lines.length });
    const results = lines.map((_, index) => ({ index, id: `e${index}`, status: 'accepted' }));
    return new Response(JSON.stringify({ accepted: lines.length, rejected: 0, failed: 0, results }), { status: 200 });
  }) as unknown as typeof fetch;
  return { requests, fetchImpl };
}

describe('produce', () => {
  it('with a rate, sends batches of at most the rate and never more than the rate in any one-second window', async () => {
    const api = fakeApi();
    const summary = await produce(events(600), {
      endpoint: 'http://api.test',
      apiKey: 'k',
      type: 'transactions',
      rate: 200,
      concurrency: 4,
      fetchImpl: api.fetchImpl,
    });
    expect([summary.sent, summary.accepted, summary.requests]).toEqual([600, 600, 3]);
    expect(api.requests.map((r) => r.events)).toEqual([200, 200, 200]);
    // Each batch starts a full window after the one whose events would otherwise exceed the rate (timers never
    // fire early by more than their millisecond rounding).
    for (let i = 1; i < api.requests.length; i++)
      expect(api.requests[i]!.at - api.requests[i - 1]!.at).toBeGreaterThanOrEqual(995);
  });

  it('without a rate, sends full batches of 500 at once', async () => {
    const api = fakeApi();
    const summary = await produce(events(1_200), {
      endpoint: 'http://api.test',
      apiKey: 'k',
      type: 'transactions',
      fetchImpl: api.fetchImpl,
    });
    expect([summary.accepted, summary.rejected, summary.failed]).toEqual([1_200, 0, 0]);
    expect(api.requests.map((r) => r.events)).toEqual([500, 500, 200]);
  });
});
