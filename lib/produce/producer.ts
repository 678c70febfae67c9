import { TributaryError, errorMessage } from '../errors.ts';
import type { EventResult, IngestResult } from '../ingest/ingest.ts';
import { sleep } from '../util/time.ts';
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from '../events/limits.ts';
import { WindowRateLimiter } from '../util/rate.ts';

/** Errors talking to the ingest API from the producer. */
export class ProducerError extends TributaryError {}

/** One event to send: JSON text (a valid event or raw text the API will quarantine) and where it came from. */
export interface OutgoingEvent {
  text: string;
  /** Position in the input (0-based) and source line, for error reports. */
  index: number;
  line?: number;
}

export interface ProduceOptions {
  endpoint: string;
  apiKey: string;
  type: string;
  /** Events per request (≤ 500). */
  batch?: number;
  /** Events per second; 0 or undefined for as fast as possible. */
  rate?: number;
  /** Requests in flight. */
  concurrency?: number;
  /** Attempts for a request or an event that failed for a retryable reason. */
  maxAttempts?: number;
  onProgress?: (p: { sent: number; accepted: number; rejected: number; failed: number }) => void;
  fetchImpl?: typeof fetch;
}

export interface ProducedError {
  index: number;
  line?: number;
  id?: string;
  status: string;
  reason?: string;
  errors?: EventResult['errors'];
}

export interface ProduceSummary {
  type: string;
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
  requests: number;
  retries: number;
  seconds: number;
  eventsPerSecond: number;
  /** The first problems, in input order (at most 20). */
  firstErrors: ProducedError[];
}

const MAX_FIRST_ERRORS = 20;
// Leave room for NDJSON newlines and stay well inside the API's body limit.
const BODY_BUDGET = MAX_BODY_BYTES - 64 * 1024;

/**
 * Sends events to the ingest API in NDJSON batches (by count and bytes), with a rate limit and a few requests in
 * flight, retrying what the API reports as retryable (503, 5xx, network errors, per-event `failed`) with backoff.
 * Resolves with exact counts; an event is counted once, by its final outcome.
 */
export async function produce(
  events: AsyncIterable<OutgoingEvent> | Iterable<OutgoingEvent>,
  options: ProduceOptions,
): Promise<ProduceSummary> {
  const started = Date.now();
  const rate = options.rate ?? 0;
  // A batch larger than the rate could never fit one second's budget: with a rate, batches are at most the rate.
  const batchSize = Math.min(
    MAX_EVENTS_PER_REQUEST,
    Math.max(1, options.batch ?? MAX_EVENTS_PER_REQUEST),
    rate > 0 ? Math.max(1, Math.floor(rate)) : Number.POSITIVE_INFINITY,
  );
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxAttempts = options.maxAttempts ?? 8;
  const fetchImpl = options.fetchImpl ?? fetch;
  // The re-drive's limiter: no one-second window sees more than `rate` events sent (counted when a batch starts).
  // Below one event a second, one event per 1/rate seconds.
  const limiter = rate > 0 ? new WindowRateLimiter(Math.max(1, rate), rate < 1 ? 1000 / rate : 1000) : undefined;
  const take = async (n: number) => {
    if (!limiter) return;
    for (let wait = limiter.delayFor(n, Date.now()); wait > 0; wait = limiter.delayFor(n, Date.now()))
      await sleep(wait);
    limiter.record(n, Date.now());
  };
  const url = `${options.endpoint.replace(/\/$/, '')}/v1/events/${encodeURIComponent(options.type)}`;
  const summary: ProduceSummary = {
    type: options.type,
    sent: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    requests: 0,
    retries: 0,
    seconds: 0,
    eventsPerSecond: 0,
    firstErrors: [],
  };
  let errors: ProducedError[] = [];
  // Batches finish out of order; keep a bounded list and the lowest indices.
  const note = (e: ProducedError) => {
    errors.push(e);
    if (errors.length > 10 * MAX_FIRST_ERRORS)
      errors = errors.sort((a, b) => a.index - b.index).slice(0, MAX_FIRST_ERRORS);
  };
  let fatal: Error | undefined;

  const post = async (batch: OutgoingEvent[]): Promise<IngestResult> => {
    for (let attempt = 1; ; attempt++) {
      summary.requests++;
      let status = 0;
      let bodyText = '';
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', 'x-api-key': options.apiKey },
          body: batch.map((e) => e.text).join('\n'),
        });
        status = res.status;
        bodyText = await res.text();
      } catch (err) {
        if (attempt >= maxAttempts)
          throw new ProducerError(
            'unreachable',
            `Cannot reach ${url}: ${errorMessage(err)}. Is \`tributary dev\` running?`,
          );
      }
      if (status === 200 || status === 207 || (status === 503 && bodyText.includes('"results"'))) {
        return JSON.parse(bodyText) as IngestResult;
      }
      if (status === 401)
        throw new ProducerError(
          'unauthorized',
          'The API refused the key (401). Use the key printed by `tributary dev`, or set TRIBUTARY_API_KEY.',
        );
      if (status >= 400 && status < 500 && status !== 429) {
        let message = bodyText;
        try {
          message = (JSON.parse(bodyText) as { message?: string }).message ?? bodyText;
        } catch {
          /* keep raw text */
        }
        throw new ProducerError('rejected_request', `The API answered ${status}: ${message}`);
      }
      if (attempt >= maxAttempts)
        throw new ProducerError(
          'unavailable',
          `The API kept failing (${status || 'network error'}) after ${attempt} attempts.`,
        );
      summary.retries++;
      await sleep(Math.min(5_000, 100 * 2 ** attempt * Math.random() + 50));
    }
  };

  const sendBatch = async (batch: OutgoingEvent[]) => {
    let pending = batch;
    for (let attempt = 1; pending.length; attempt++) {
      const result = await post(pending);
      const retry: OutgoingEvent[] = [];
      result.results.forEach((r, i) => {
        const ev = pending[i]!;
        if (r.status === 'accepted') summary.accepted++;
        else if (r.status !== 'rejected' && r.retryable && attempt < maxAttempts) retry.push(ev);
        else {
          // Rejected (the event's fault) or failed for good: counted as such and noted with its reason.
          if (r.status === 'rejected') summary.rejected++;
          else summary.failed++;
          note({
            index: ev.index,
            ...(ev.line !== undefined ? { line: ev.line } : {}),
            id: r.id,
            status: r.status,
            reason: r.reason,
            errors: r.errors,
          });
        }
      });
      pending = retry;
      if (pending.length) {
        summary.retries++;
        await sleep(Math.min(5_000, 100 * 2 ** attempt * Math.random() + 50));
      }
    }
  };

  const inflight = new Set<Promise<void>>();
  const dispatch = async (batch: OutgoingEvent[]) => {
    await take(batch.length);
    summary.sent += batch.length;
    const p = sendBatch(batch)
      .catch((err: unknown) => {
        fatal ??= err instanceof Error ? err : new Error(String(err));
        summary.failed += batch.length;
      })
      .finally(() => {
        inflight.delete(p);
        options.onProgress?.({
          sent: summary.sent,
          accepted: summary.accepted,
          rejected: summary.rejected,
          failed: summary.failed,
        });
      });
    inflight.add(p);
    if (inflight.size >= concurrency) await Promise.race(inflight);
  };

  let batch: OutgoingEvent[] = [];
  let bytes = 0;
  for await (const ev of events) {
    if (fatal) break;
    const size = Buffer.byteLength(ev.text) + 1;
    if (batch.length && (batch.length >= batchSize || bytes + size > BODY_BUDGET)) {
      await dispatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(ev);
    bytes += size;
  }
  if (batch.length && !fatal) await dispatch(batch);
  await Promise.all(inflight);
  if (fatal) throw Object.assign(fatal, { summary: finish() });
  return finish();

  function finish(): ProduceSummary {
    summary.seconds = (Date.now() - started) / 1000;
    summary.eventsPerSecond = summary.seconds > 0 ? Math.round(summary.sent / summary.seconds) : summary.sent;
    summary.firstErrors = errors.sort((a, b) => a.index - b.index).slice(0, MAX_FIRST_ERRORS);
    return summary;
  }
}
