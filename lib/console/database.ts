import type pg from 'pg';
import { errorMessage, TributaryError } from '../errors.ts';
import type { ImportService, ImportsOverview, ImportSummary } from '../imports/service.ts';
import { oltpStatus, type OltpStatus } from '../oltp/status.ts';
import { type Actor, requireOperator } from '../quarantine/access.ts';

/*
 * What the console asks of the operational database. Locally the console answers it over its own pool; in AWS the
 * database is in a private VPC the console's server function is not in, so the console database function
 * (functions/console-db) answers it there. Both go through `consoleDbAnswer`, so a refusal reaches the console with
 * the same code and status either way, and the function checks the request again whatever the console sent.
 */

/** One request of the console to the database. */
export type ConsoleDbRequest =
  | { op: 'oltp-status'; latest?: number }
  | { op: 'imports'; perTable?: number; raw?: number }
  | { op: 'import-decision'; id: string; decision: 'approve' | 'reject'; actor: Actor };

/** What each request answers. */
export interface ConsoleDbValues {
  'oltp-status': OltpStatus;
  imports: ImportsOverview;
  'import-decision': ImportSummary;
}

/** The answer as it crosses the function boundary: the value, or the refusal with its code and status. */
export type ConsoleDbAnswer =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; status: number; message: string } };

/** A request the console database refused (its code and status are the refusal's, e.g. 404 for an unknown import). */
export class ConsoleDbError extends TributaryError {
  constructor(code: string, message: string, status: number) {
    super(code, message, { status });
  }
}

const bad = (message: string) => new ConsoleDbError('bad_request', message, 400);
const clamp = (v: unknown, min: number, max: number, fallback: number) =>
  Math.max(min, Math.min(max, Math.floor(Number(v ?? fallback)) || fallback));

/**
 * Checks a request as received (the function's event is whatever its invoker sent).
 *
 * @throws ConsoleDbError (400) saying what is wrong.
 */
export function readConsoleDbRequest(value: unknown): ConsoleDbRequest {
  const r = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  switch (r.op) {
    case 'oltp-status':
      return { op: 'oltp-status', latest: clamp(r.latest, 0, 100, 0) };
    case 'imports':
      return { op: 'imports', perTable: clamp(r.perTable, 1, 200, 20), raw: clamp(r.raw, 1, 500, 50) };
    case 'import-decision': {
      const actor = r.actor as Partial<Actor> | undefined;
      if (typeof r.id !== 'string' || !r.id) throw bad('An import decision needs the import id.');
      if (r.decision !== 'approve' && r.decision !== 'reject')
        throw bad('An import decision is "approve" or "reject".');
      if (typeof actor?.by !== 'string' || (actor.role !== 'operator' && actor.role !== 'viewer'))
        throw bad('An import decision needs who decides ({by, role}).');
      return { op: 'import-decision', id: r.id, decision: r.decision, actor: { by: actor.by, role: actor.role } };
    }
    default:
      throw bad(
        `Unknown console database request ${JSON.stringify(r.op ?? null)}: oltp-status, imports or import-decision.`,
      );
  }
}

/**
 * Answers one request over `pool` (the imports through `imports`, built over the same pool). Never throws: a refusal
 * or failure is the answer's `error`, a Tributary error keeping its code and status, anything else a 500.
 */
export async function consoleDbAnswer(
  pool: pg.Pool,
  imports: () => ImportService,
  event: unknown,
): Promise<ConsoleDbAnswer> {
  try {
    const request = readConsoleDbRequest(event);
    switch (request.op) {
      case 'oltp-status':
        return { ok: true, value: await oltpStatus(pool, { latest: request.latest ?? 0 }) };
      case 'imports':
        return { ok: true, value: await imports().overview({ perTable: request.perTable, raw: request.raw }) };
      case 'import-decision': {
        requireOperator(request.actor, request.decision === 'approve' ? 'Approving an import' : 'Rejecting an import');
        const service = imports();
        const value =
          request.decision === 'approve'
            ? await service.approve(request.id, request.actor.by)
            : await service.reject(request.id, request.actor.by);
        return { ok: true, value };
      }
    }
  } catch (err) {
    if (err instanceof TributaryError)
      return { ok: false, error: { code: err.code, status: err.status, message: err.message } };
    return { ok: false, error: { code: 'internal', status: 500, message: errorMessage(err) } };
  }
}

/** The value of an answer. @throws ConsoleDbError with the refusal's code, status and message. */
export function answerValue<K extends keyof ConsoleDbValues>(answer: ConsoleDbAnswer): ConsoleDbValues[K] {
  if (answer.ok) return answer.value as ConsoleDbValues[K];
  throw new ConsoleDbError(answer.error.code, answer.error.message, answer.error.status);
}
