import { createHash } from 'node:crypto';
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from '../events/limits.ts';
import { type EventResult, type IngestDeps, ingestEvents } from '../ingest/ingest.ts';
import { type FileEvent, readEventsFromFile } from '../produce/readers.ts';

/*
 * Raw event files: CSV with a header line, JSON (an object or an array) or NDJSON, each optionally gzip, loaded as if
 * their events came through the ingest API — the same coercion, validation and envelopes, put on the stream with the
 * same per-entry retries — with `source: "import"`, and their invalid rows quarantined under stage `import`. From the
 * stream the lake writer writes them like any event, and compaction turns them into Parquet.
 *
 * Exactly once: a load that stopped half-way (a crash, records the stream refused) is run again over the whole file.
 * Every run stamps the events and quarantine records with the file's arrival time, not its own, so a re-run, even on
 * another day, puts the same events in the same partitions: the events already on the stream go again with the same
 * ids (the type's id field), which the lake's tables (one row per id and day) and the OLTP sink keep once, and each
 * chunk's quarantine object is named after the file and the chunk, so a re-run overwrites its own objects.
 */

/** At most this many bytes of NDJSON per chunk: the API's body limit, less room for the framing. */
const CHUNK_BYTES = MAX_BODY_BYTES - 64 * 1024;
const FIRST_ERRORS = 20;

export interface RawLoadInput {
  type: string;
  /** A local copy of the file. */
  file: string;
  /** What names the file for good (its S3 key and ETag): the quarantine objects of a re-run are the same objects. */
  source: string;
  /**
   * When the file arrived (the object's LastModified): every event and quarantine record of the load is stamped with
   * it, so a re-run on another day lands in the same lake and quarantine partitions and is kept once.
   */
  receivedAt: string;
}

export interface RawLoadSummary {
  type: string;
  events: number;
  accepted: number;
  rejected: number;
  /** Not stored anywhere (the stream refused them after its retries): run the load again. */
  failed: number;
  chunks: number;
  /** The first problems, in file order, with the line each event starts on. */
  firstErrors: (Pick<EventResult, 'id' | 'status' | 'reason' | 'errors'> & { line: number })[];
}

/**
 * Loads a raw event file of one type through the ingest path, in chunks of at most 500 events and ~4 MiB.
 *
 * @throws ProduceInputError for a file that cannot be read as the type's events (a CSV without a header line, JSON
 *   that does not parse), before anything is sent.
 */
export async function loadRawFile(
  deps: IngestDeps,
  input: RawLoadInput,
  onProgress?: (s: RawLoadSummary) => void,
): Promise<RawLoadSummary> {
  const sv = deps.registry.version(input.type);
  const at = new Date(input.receivedAt);
  const fixed: IngestDeps = { ...deps, now: () => at };
  const summary: RawLoadSummary = {
    type: input.type,
    events: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    chunks: 0,
    firstErrors: [],
  };
  const base = createHash('sha256').update(input.source).digest('hex').slice(0, 16);
  let chunk: { event: FileEvent; text: string }[] = [];
  let bytes = 0;
  const send = async () => {
    if (!chunk.length) return;
    const sent = chunk;
    chunk = [];
    bytes = 0;
    const n = summary.chunks++;
    const result = await ingestEvents(
      {
        type: input.type,
        version: sv.v,
        body: sent.map((c) => c.text).join('\n'),
        framing: 'ndjson',
        source: 'import',
        quarantine: { stage: 'import', unique: `${base}-${String(n).padStart(6, '0')}` },
      },
      fixed,
    );
    summary.events += sent.length;
    summary.accepted += result.accepted;
    summary.rejected += result.rejected;
    summary.failed += result.failed;
    for (const r of result.results) {
      if (r.status === 'accepted' || summary.firstErrors.length >= FIRST_ERRORS) continue;
      summary.firstErrors.push({
        line: sent[r.index]!.event.line,
        id: r.id,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.errors ? { errors: r.errors } : {}),
      });
    }
    onProgress?.({ ...summary });
  };
  for await (const event of readEventsFromFile(input.file, sv)) {
    // NDJSON frames one event per line: a raw row with a line break inside stays one (refused) event.
    const text = event.raw !== undefined ? event.raw.replace(/\r?\n/g, ' ') : JSON.stringify(event.value);
    const size = Buffer.byteLength(text) + 1;
    if (chunk.length && (chunk.length >= MAX_EVENTS_PER_REQUEST || bytes + size > CHUNK_BYTES)) await send();
    chunk.push({ event, text });
    bytes += size;
  }
  await send();
  return summary;
}
