import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { lostConditionalWrite, newestFirstKey } from '../aws/s3.ts';
import type { Actor } from './access.ts';
import { type AuditEntry, READ_WINDOW_MS } from './audit.ts';
import { filterParams, type QuarantineFilter } from './filter.ts';
import { withheldSearch } from './withheld-search.ts';
import { QUARANTINE_PREFIX } from './quarantine-index.ts';

/** Where sensitive data was read unmasked: a page of the console (or its API) and what on it. */
export type ReadSurface =
  | 'quarantine list'
  | 'quarantine record'
  | 'stream records'
  | 'live tail'
  | 'oltp'
  | 'sql result';

/**
 * The subject of a read of the quarantine list: its filter as query parameters, the search text withheld (it is
 * whatever the operator typed, a card number as often as not, and the audit log is readable by every signed-in user).
 */
export function listReadSubject(filter: QuarantineFilter): string {
  return new URLSearchParams(withheldSearch(filterParams(filter))).toString() || 'everything';
}

// One audit line per reader, surface and subject in each window (pages poll every few seconds).
const WINDOW_MS = READ_WINDOW_MS;

/**
 * The audit of unmasked reads: who saw sensitive fields in full, where and when. A line is an audit entry (action
 * `read`) whose key is fixed by reader, surface, subject and 15-minute window and created with `If-None-Match: *`, so
 * a page polling every 5 s, on any number of console instances, writes one line per window. A read whose line cannot
 * be written fails: no unmasked read goes unrecorded.
 */
export class ReadAudit {
  readonly #written = new Set<string>();

  constructor(private readonly deps: { s3: S3Client; bucket: string; now?: () => Date }) {}

  /** Records that `actor` read `subject` on `surface` unmasked (once per window). */
  async record(actor: Actor, surface: ReadSurface, subject: string): Promise<void> {
    const now = this.deps.now?.() ?? new Date();
    const window = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS).toISOString();
    const id = createHash('sha256').update(`${actor.by}\0${surface}\0${subject}\0${window}`).digest('hex').slice(0, 24);
    if (this.#written.has(id)) return;
    const entry: AuditEntry = {
      id,
      at: now.toISOString(),
      by: actor.by,
      role: actor.role,
      action: 'read',
      selection: 'one',
      requested: 1,
      counts: {},
      surface,
      subject,
      ...(surface === 'quarantine record' ? { qids: [subject] } : {}),
      note: `${surface}: ${subject} (unmasked; one line per 15 minutes)`,
    };
    try {
      await this.deps.s3.send(
        new PutObjectCommand({
          Bucket: this.deps.bucket,
          Key: newestFirstKey(QUARANTINE_PREFIX.audit, window, id),
          Body: JSON.stringify(entry),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      if (!lostConditionalWrite(err)) throw err;
    }
    this.#written.add(id);
    if (this.#written.size > 10_000) this.#written.clear();
  }
}
