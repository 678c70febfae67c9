import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { TributaryError } from '../errors.ts';
import { compileCsvCoercer, compileJsonCoercer, type Coercer, type JsonCoercer } from './coerce.ts';
import { compilePointer, encodePointer, type PointerGetter } from './pointer.ts';
import { readSettings } from '../config.ts';

/** Errors of the schema registry. */
export class RegistryError extends TributaryError {}

export class UnknownTypeError extends RegistryError {
  constructor(
    readonly type: string,
    readonly known: string[],
  ) {
    super('unknown_type', `Unknown event type ${JSON.stringify(type)}; known types: ${known.join(', ')}.`);
  }
}

export class UnknownVersionError extends RegistryError {
  constructor(type: string, v: unknown, known: number[]) {
    super(
      'unknown_version',
      `Event type ${type} has no schema version ${JSON.stringify(v)}; versions: ${known.join(', ')}.`,
    );
  }
}

/** How the event-time field is written by the source system. */
export type EventTimeFormat = 'datetime-space' | 'unix-seconds' | 'unix-millis' | 'iso8601';

/** `schemas/<type>/type.json`: how a type maps onto envelopes, partitions and tables. */
export interface TypeManifest {
  type: string;
  description: string;
  table: string;
  latest: number;
  id: { pointer: string } | null;
  eventTime: { pointer: string; format: EventTimeFormat } | null;
  partitions: { name: string; pointer: string }[];
  partitionKey: { pointer: string } | null;
  /** Fields viewers see masked (lib/masking.ts), by JSON pointer and what they hold. */
  sensitive?: { pointer: string; kind: 'card' | 'name' | 'email' | 'street' | 'text' }[];
}

/** One validation problem, in the shape the API and the quarantine record use. */
export interface FieldError {
  path: string;
  keyword: string;
  message: string;
}

export interface SchemaVersion {
  v: number;
  schema: Record<string, unknown>;
  validate: ValidateFunction;
  /** Typed JSON input: numbers where the schema wants text become exact text; returns COERCE_* flags. */
  coerceJson: JsonCoercer;
  /** CSV text input: numbers, booleans, NA/empty → null, by the schema. */
  coerceCsv: Coercer;
}

export interface EventType {
  name: string;
  manifest: TypeManifest;
  versions: Map<number, SchemaVersion>;
  latest: SchemaVersion;
  getId: PointerGetter | null;
  getEventTime: PointerGetter | null;
  getPartitionKey: PointerGetter | null;
  partitions: { name: string; get: PointerGetter }[];
}

const PARTITION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const SENSITIVE = ['card', 'name', 'email', 'street', 'text'];

/**
 * A directory shipped at the repository root (schemas/, queries/). Found next to the sources when run from them; a
 * bundled server (the Next console) runs from the repository root, so its working directory is the fallback.
 */
export function repoDir(name: string): string {
  const beside = path.resolve(/*turbopackIgnore: true*/ path.dirname(fileURLToPath(import.meta.url)), '../..', name);
  return existsSync(beside) ? beside : path.resolve(/*turbopackIgnore: true*/ process.cwd(), name);
}

/** Directory of the schemas shipped with Tributary (`TRIBUTARY_SCHEMAS_DIR` overrides it). */
export function defaultSchemasDir(): string {
  const dir = readSettings().TRIBUTARY_SCHEMAS_DIR;
  return dir ? path.resolve(dir) : repoDir('schemas');
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  null: 'null',
  object: 'an object',
  array: 'an array',
};

// Keywords whose refusal of "" is about the value being empty, not about what its text says.
const EMPTY_KEYWORDS = new Set(['type', 'pattern', 'minLength', 'format', 'enum', 'const']);

/**
 * Converts ajv errors into the API's `{path, keyword, message}` list (path is a JSON pointer into the event). With the
 * validated value, a refusal of an empty string says the field is empty first (an empty CSV cell, an empty form field).
 */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, data?: unknown): FieldError[] {
  if (!errors) return [];
  return errors.map((e) => {
    let p = e.instancePath;
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      p = `${p}${encodePointer([e.params.missingProperty])}`;
    }
    let message = e.message ?? e.keyword;
    if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
      message = `must be one of ${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'type' && (typeof e.params.type === 'string' || Array.isArray(e.params.type))) {
      // ajv says "must be number,null"; a person reads "must be a number or null".
      const types = (Array.isArray(e.params.type) ? e.params.type : String(e.params.type).split(',')) as string[];
      message = `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    } else if (e.keyword === 'pattern' && typeof e.params.pattern === 'string' && e.params.pattern.length > 80) {
      message = 'does not have the expected format';
    }
    if (data !== undefined && EMPTY_KEYWORDS.has(e.keyword) && compilePointer(e.instancePath)(data) === '')
      message = `is empty; ${message}`;
    return { path: p || '/', keyword: e.keyword, message };
  });
}

/** The validator every schema is compiled with: draft 2020-12, strict, all errors, the formats events use. */
export function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  addFormats.default(ajv, ['date', 'date-time', 'email', 'uuid']);
  return ajv;
}

/**
 * The event-type registry: every `schemas/<type>/` directory, its manifest and its JSON Schemas (draft 2020-12),
 * compiled once with ajv. Loading fails fast on a malformed manifest or schema.
 */
export class Registry {
  readonly #types = new Map<string, EventType>();

  constructor(readonly dir: string = defaultSchemasDir()) {
    if (!existsSync(dir)) throw new RegistryError('registry_missing', `Schema directory ${dir} does not exist.`);
    const ajv = newAjv();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      this.#types.set(entry.name, loadType(ajv, path.join(dir, entry.name), entry.name));
    }
    if (this.#types.size === 0) throw new RegistryError('registry_empty', `No event types found under ${dir}.`);
  }

  /** Names of all registered types, sorted. */
  names(): string[] {
    return [...this.#types.keys()].sort();
  }

  has(name: string): boolean {
    return this.#types.has(name);
  }

  /** Returns a type or throws {@link UnknownTypeError} listing the known ones. */
  get(name: string): EventType {
    const t = this.#types.get(name);
    if (!t) throw new UnknownTypeError(name, this.names());
    return t;
  }

  /** Returns a schema version of a type (latest when `v` is undefined). */
  version(name: string, v?: number): SchemaVersion {
    const t = this.get(name);
    if (v === undefined) return t.latest;
    const sv = t.versions.get(v);
    if (!sv) throw new UnknownVersionError(name, v, [...t.versions.keys()]);
    return sv;
  }
}

/**
 * An event type's name: a Glue table's and a lake prefix's. Never a dot, which marks the stream's other records (a
 * table import's operations are `import.<table>`, lib/imports/ops.ts).
 */
const TYPE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

function loadType(ajv: Ajv2020, dir: string, name: string): EventType {
  const manifestPath = path.join(dir, 'type.json');
  if (!TYPE_NAME.test(name))
    throw new RegistryError(
      'bad_type_name',
      `${dir}: an event type's name is lower-case letters, digits and '_' (at most 64, a letter first); rename the directory and its type.json "type".`,
    );
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as TypeManifest;
  if (manifest.type !== name) {
    throw new RegistryError(
      'bad_manifest',
      `${manifestPath}: "type" is ${JSON.stringify(manifest.type)} but the directory is ${name}.`,
    );
  }
  for (const p of manifest.partitions) {
    if (!PARTITION_NAME.test(p.name) || p.name === 'dt' || p.name === 'hour') {
      throw new RegistryError(
        'bad_manifest',
        `${manifestPath}: partition name ${JSON.stringify(p.name)} must match ${PARTITION_NAME} and not be dt/hour.`,
      );
    }
  }
  for (const f of manifest.sensitive ?? []) {
    if (typeof f?.pointer !== 'string' || !/^(\/[^/]*)+$/.test(f.pointer) || !SENSITIVE.includes(f.kind))
      throw new RegistryError(
        'bad_manifest',
        `${manifestPath}: each "sensitive" entry is {"pointer": "/a/b", "kind": one of ${SENSITIVE.join(', ')}}.`,
      );
  }
  const versions = new Map<number, SchemaVersion>();
  for (const file of readdirSync(dir)) {
    const m = /^v([0-9]+)\.schema\.json$/.exec(file);
    if (!m) continue;
    const v = Number(m[1]);
    const schema = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    versions.set(v, {
      v,
      schema,
      validate: ajv.compile(schema),
      coerceJson: compileJsonCoercer(schema),
      coerceCsv: compileCsvCoercer(schema),
    });
  }
  const latest = versions.get(manifest.latest);
  if (!latest)
    throw new RegistryError(
      'bad_manifest',
      `${manifestPath}: latest version v${manifest.latest} has no v${manifest.latest}.schema.json.`,
    );
  return {
    name,
    manifest,
    versions,
    latest,
    getId: manifest.id ? compilePointer(manifest.id.pointer) : null,
    getEventTime: manifest.eventTime ? compilePointer(manifest.eventTime.pointer) : null,
    getPartitionKey: manifest.partitionKey ? compilePointer(manifest.partitionKey.pointer) : null,
    partitions: manifest.partitions.map((p) => ({ name: p.name, get: compilePointer(p.pointer) })),
  };
}

let shared: Registry | undefined;

/** The process-wide registry of the shipped schemas, compiled on first use. */
export function defaultRegistry(): Registry {
  shared ??= new Registry();
  return shared;
}
