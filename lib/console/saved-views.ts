import { createHash } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getJsonOrNull, listAll, lostConditionalWrite } from '../aws/s3.ts';
import { TributaryError } from '../errors.ts';
import type { Actor } from '../quarantine/access.ts';

/**
 * Saved views: a name for a page's filter, shared by everyone signed in to the console (an on-call team's "all
 * oltp-sink failures since the deploy"). Each is one object `views/<page>/<id>.json` in the athena-results bucket,
 * so every console instance lists the same ones; the id is a hash of the page and the name, created with
 * `If-None-Match: *`, so two people saving one name at once get one view and one 409.
 */

/** The query parameters a saved view of each page may hold: its filter, not the record or job open at the time. */
export const VIEW_PARAMS = {
  quarantine: ['type', 'stage', 'reason', 'status', 'from', 'to', 'q'],
  stream: ['shard', 'from', 'at', 'limit', 'raw'],
} as const satisfies Record<string, readonly string[]>;
export type ViewPage = keyof typeof VIEW_PARAMS;

export interface SavedView {
  id: string;
  page: ViewPage;
  name: string;
  /** The page's query string, e.g. `stage=oltp-sink&status=all`. */
  query: string;
  by: string;
  at: string;
}

const MAX_NAME = 80;
const MAX_QUERY = 2_000;
const PREFIX = 'views/';

/** A saved view refused or not found: 400 bad input, 403 not yours, 404 unknown, 409 the name is taken. */
export class SavedViewError extends TributaryError {
  constructor(code: 'bad_view' | 'view_forbidden' | 'view_not_found' | 'view_exists', message: string) {
    super(code, message, {
      status: { bad_view: 400, view_forbidden: 403, view_not_found: 404, view_exists: 409 }[code],
    });
  }
}

function pageOf(page: unknown): ViewPage {
  if (typeof page === 'string' && Object.hasOwn(VIEW_PARAMS, page)) return page as ViewPage;
  throw new SavedViewError(
    'bad_view',
    `"page" must be one of ${Object.keys(VIEW_PARAMS).join(', ')} (the pages that have saved views).`,
  );
}

/** The view's query string, keeping its parameters' order; a parameter the page does not read is refused by name. */
function queryOf(page: ViewPage, query: unknown): string {
  if (typeof query !== 'string' || query.length > MAX_QUERY)
    throw new SavedViewError('bad_view', `"query" must be the page's query string, at most ${MAX_QUERY} characters.`);
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const allowed: readonly string[] = VIEW_PARAMS[page];
  const unknown = [...new Set([...params.keys()].filter((k) => !allowed.includes(k)))];
  if (unknown.length)
    throw new SavedViewError(
      'bad_view',
      `A saved ${page} view holds only its filter (${allowed.join(', ')}); drop ${unknown.join(', ')}.`,
    );
  return params.toString();
}

/** Reads and checks `{page, name, query}` as a request sends it. */
export function readViewRequest(body: unknown): { page: ViewPage; name: string; query: string } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const page = pageOf(b.page);
  const name = typeof b.name === 'string' ? b.name.trim() : '';
  if (!name || name.length > MAX_NAME || /\p{Cc}/u.test(name))
    throw new SavedViewError(
      'bad_view',
      `"name" must be 1 to ${MAX_NAME} characters of text, without control characters.`,
    );
  return { page, name, query: queryOf(page, b.query ?? '') };
}

const viewId = (page: ViewPage, name: string) =>
  createHash('sha256').update(`${page}\0${name.toLowerCase()}`).digest('hex').slice(0, 24);
const keyOf = (page: ViewPage, id: string) => `${PREFIX}${page}/${id}.json`;

/** The saved views of the console, kept in S3. */
export class SavedViews {
  constructor(private readonly deps: { s3: S3Client; bucket: string; now?: () => Date }) {}

  /** The views of a page, by name. */
  async list(page: unknown): Promise<SavedView[]> {
    const p = pageOf(page);
    const objects = await listAll(this.deps.s3, this.deps.bucket, `${PREFIX}${p}/`);
    const views = await Promise.all(
      objects.map((o) => getJsonOrNull<SavedView>(this.deps.s3, this.deps.bucket, o.Key!)),
    );
    return views.filter((v): v is SavedView => !!v).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Saves a view under a name not yet taken on its page (names compare without case).
   *
   * @throws SavedViewError 400 for a bad page, name or query, 409 when the name is taken.
   */
  async save(body: unknown, actor: Actor): Promise<SavedView> {
    const { page, name, query } = readViewRequest(body);
    const id = viewId(page, name);
    const view: SavedView = {
      id,
      page,
      name,
      query,
      by: actor.by,
      at: (this.deps.now?.() ?? new Date()).toISOString(),
    };
    try {
      await this.deps.s3.send(
        new PutObjectCommand({
          Bucket: this.deps.bucket,
          Key: keyOf(page, id),
          Body: JSON.stringify(view),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      if (!lostConditionalWrite(err)) throw err;
      throw new SavedViewError(
        'view_exists',
        `A ${page} view named ${JSON.stringify(name)} exists: choose another name, or delete it first.`,
      );
    }
    return view;
  }

  /**
   * Deletes a view: its author's or any operator's to delete.
   *
   * @throws SavedViewError 404 for an unknown view, 403 for someone else's view and a viewer.
   */
  async remove(page: unknown, id: string, actor: Actor): Promise<void> {
    const p = pageOf(page);
    if (!/^[0-9a-f]{24}$/.test(id))
      throw new SavedViewError('view_not_found', `No ${p} view has the id ${JSON.stringify(id)}.`);
    const view = await getJsonOrNull<SavedView>(this.deps.s3, this.deps.bucket, keyOf(p, id));
    if (!view) throw new SavedViewError('view_not_found', `No ${p} view has the id ${id}; it may have been deleted.`);
    if (view.by !== actor.by && actor.role !== 'operator')
      throw new SavedViewError(
        'view_forbidden',
        `${JSON.stringify(view.name)} was saved by ${view.by}: only they or an operator may delete it.`,
      );
    await this.deps.s3.send(new DeleteObjectCommand({ Bucket: this.deps.bucket, Key: keyOf(p, id) }));
  }
}
