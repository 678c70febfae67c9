import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { QueryRefusedError } from './errors.ts';

/**
 * The longest query text accepted, in UTF-8 bytes: Athena's own limit on `StartQueryExecution`'s QueryString
 * (262,144 bytes, not adjustable), applied to both engines so a query that runs locally also runs in AWS. Checked
 * before anything parses the text.
 */
export const MAX_QUERY_BYTES = 262_144;

/** A node of DuckDB's parse tree as `json_serialize_sql` writes it (statements, query nodes, table refs, expressions). */
export interface SqlNode {
  readonly [key: string]: unknown;
}

/** One statement read by DuckDB's parser. */
export interface ParsedQuery {
  /** The statement's query node (`SELECT_NODE`, `SET_OPERATION_NODE`, …). */
  tree: SqlNode;
  /**
   * The statement as the engines get it: the text with trailing `;` removed and each `$name` placeholder replaced by
   * a positional `?` (DuckDB prepared statements and Athena's ExecutionParameters both bind `?` in order).
   */
  sql: string;
  /** The placeholder names in the order of their `?` (a name used twice appears twice). */
  params: string[];
}

type Serialized =
  | { error: false; statements: { node: SqlNode; named_param_map: { key: string; value: number }[] }[] }
  | { error: true; error_type: string; error_message: string; position?: string };

/** Whitespace as DuckDB's (PostgreSQL's) scanner defines it, plus `;`: what may follow the statement. */
const TRAILER = /[ \t\n\r\f\v;]+$/;

/**
 * Reads SQL with DuckDB's own parser (`json_serialize_sql`), in an in-memory DuckDB that can open no file, load no
 * extension and change no setting: the parse tree, not a tokenizer, decides what a query is. Used for both engines;
 * the Trino text Athena runs is read with the same parser (see the README's "Guards" for what that implies).
 */
export class SqlParser {
  #connection?: Promise<{ db: DuckDBInstance; c: DuckDBConnection }>;

  #open(): Promise<{ db: DuckDBInstance; c: DuckDBConnection }> {
    this.#connection ??= (async () => {
      // Loaded on first use: only the parts of the console that run queries need the native binding.
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:', {
        threads: '1',
        enable_external_access: 'false',
        autoload_known_extensions: 'false',
        autoinstall_known_extensions: 'false',
        lock_configuration: 'true',
      });
      return { db, c: await db.connect() };
    })();
    return this.#connection;
  }

  async #serialize(sql: string): Promise<Serialized> {
    const { c } = await this.#open();
    // The text is a bound value of our own statement, never part of it.
    const reader = await c.runAndReadAll('SELECT json_serialize_sql(?::VARCHAR)', [sql]);
    return JSON.parse(String(reader.getRows()[0]![0])) as Serialized;
  }

  /**
   * Parses one query: refuses a text over {@link MAX_QUERY_BYTES}, one DuckDB cannot parse, anything but exactly one
   * SELECT statement (json_serialize_sql serializes nothing else), and positional placeholders. Returns the tree and
   * the text with `$name` placeholders turned into `?`.
   */
  async parse(text: string): Promise<ParsedQuery> {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_QUERY_BYTES) {
      throw new QueryRefusedError(
        'query_too_long',
        `The query is ${bytes.toLocaleString('en-US')} bytes; at most ${MAX_QUERY_BYTES.toLocaleString('en-US')} are accepted (Athena's limit). Move long value lists into a table, or split the query.`,
      );
    }
    const parsed = await this.#serialize(text);
    if (parsed.error) throw refusal(parsed);
    if (!parsed.statements.length)
      throw new QueryRefusedError('empty_query', 'The query is empty; write one SELECT statement.');
    if (parsed.statements.length > 1) {
      throw new QueryRefusedError(
        'multiple_statements',
        `Only one statement per query; this text holds ${parsed.statements.length}. Run them one at a time.`,
      );
    }
    const [statement] = parsed.statements;
    const names = statement!.named_param_map.map((p) => p.key);
    if (names.some((n) => /^[0-9]+$/.test(n))) {
      throw new QueryRefusedError(
        'positional_param',
        'Name the placeholders ($day, then pass day=…); positional ? and $1 placeholders are not accepted.',
      );
    }
    const sql = await this.#withoutTrailer(text, JSON.stringify(statement!.node));
    if (!names.length) return { tree: statement!.node, sql, params: [] };
    return { tree: statement!.node, ...(await this.#positional(sql, statement!.node, new Set(names))) };
  }

  /** The text without a trailing `;` (the engines take one statement without it), if that leaves the same tree. */
  async #withoutTrailer(text: string, tree: string): Promise<string> {
    const trimmed = text.replace(TRAILER, '');
    if (trimmed === text) return text;
    const again = await this.#serialize(trimmed);
    // Only trailing characters went, so every position in the tree is the same: the text must serialize identically.
    if (!again.error && again.statements.length === 1 && JSON.stringify(again.statements[0]!.node) === tree)
      return trimmed;
    throw new QueryRefusedError('syntax_error', 'The query could not be read without its trailing ";"; remove it.');
  }

  /**
   * Where the placeholders are. DuckDB's tree lists them but not their positions, so each occurrence of `$name` in the
   * text becomes a probe placeholder with a name the text does not contain, and the parser says which probes are
   * placeholders: an occurrence inside a string, comment or identifier stays text, a real one comes back as a probe.
   */
  async #positional(sql: string, tree: SqlNode, names: Set<string>): Promise<{ sql: string; params: string[] }> {
    let tag = 'p';
    while (sql.includes(tag)) tag += 'p';
    const candidates: { at: number; name: string }[] = [];
    for (const name of names) {
      const needle = `$${name}`;
      for (let at = sql.indexOf(needle); at >= 0; at = sql.indexOf(needle, at + 1)) {
        // A longer name or a dollar-quote tag ($name$) is another token, not this placeholder.
        const next = sql.charCodeAt(at + needle.length);
        if (
          !(
            next >= 0x80 ||
            (next >= 0x30 && next <= 0x39) ||
            (next >= 0x41 && next <= 0x5a) ||
            (next >= 0x61 && next <= 0x7a) ||
            next === 0x5f ||
            next === 0x24
          )
        ) {
          candidates.push({ at, name });
        }
      }
    }
    candidates.sort((a, b) => a.at - b.at);
    let probe = '';
    let from = 0;
    candidates.forEach((c, i) => {
      probe += `${sql.slice(from, c.at)}$_${tag}${i}`;
      from = c.at + c.name.length + 1;
    });
    const probed = await this.#serialize(probe + sql.slice(from));
    const found = new Set<string>();
    if (!probed.error && probed.statements.length === 1)
      for (const p of probed.statements[0]!.named_param_map) found.add(p.key);
    const real = candidates.filter((_, i) => found.has(`_${tag}${i}`));
    if (real.length !== countParameters(tree)) {
      throw new QueryRefusedError(
        'bad_param',
        'The placeholders of this query could not be located; write them as $name, separated from the words around them.',
      );
    }
    let out = '';
    from = 0;
    for (const c of real) {
      out += `${sql.slice(from, c.at)}?`;
      from = c.at + c.name.length + 1;
    }
    return { sql: out + sql.slice(from), params: real.map((c) => c.name) };
  }

  /** Closes the parser's DuckDB instance (the next parse opens a new one). */
  close(): void {
    const open = this.#connection;
    this.#connection = undefined;
    void open?.then(({ db, c }) => {
      c.closeSync();
      db.closeSync();
    });
  }
}

function refusal(e: Extract<Serialized, { error: true }>): QueryRefusedError {
  if (e.error_type === 'not implemented' && e.error_message.includes('Only SELECT')) {
    return new QueryRefusedError(
      'not_read_only',
      'Only read-only queries run here: one SELECT (or WITH … SELECT, VALUES, FROM …) statement. This text is another kind of statement (COPY, INSERT, CREATE, SET, PRAGMA, ATTACH, EXPORT, …), which is refused.',
    );
  }
  if (e.error_message.includes('max_expression_depth')) {
    return new QueryRefusedError('too_deep', 'The query nests expressions more than 1,000 levels deep; simplify it.');
  }
  const at =
    e.position !== undefined && Number.isFinite(Number(e.position)) ? ` (at character ${Number(e.position) + 1})` : '';
  return new QueryRefusedError('syntax_error', `The query could not be parsed${at}: ${e.error_message}`);
}

/** Visits every object of a parse tree, depth first, without recursion (trees can be deep). */
export function walkTree(root: unknown, visit: (node: SqlNode) => void): void {
  const stack: unknown[] = [root];
  while (stack.length) {
    const x = stack.pop();
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
    } else if (x && typeof x === 'object') {
      visit(x as SqlNode);
      const values = Object.values(x);
      for (let i = values.length - 1; i >= 0; i--)
        if (values[i] && typeof values[i] === 'object') stack.push(values[i]);
    }
  }
}

function countParameters(tree: SqlNode): number {
  let n = 0;
  walkTree(tree, (node) => {
    if (node.class === 'PARAMETER') n++;
  });
  return n;
}

let shared: SqlParser | undefined;

/** The process's parser (one small DuckDB instance, opened on first use). */
export function sqlParser(): SqlParser {
  return (shared ??= new SqlParser());
}
