import { readFileSync } from 'node:fs';
import { RegistryError, newAjv, type Registry } from './registry.ts';
import {
  type CompatMode,
  type CompatVerdict,
  type ContentPolicy,
  checkCompatibility,
  DEFAULT_COMPAT_MODE,
  diffSchemas,
  type SchemaChange,
} from './compat.ts';

/*
 * What the CLI and the console ask of the registry's versions: a candidate read and compiled, checked against a
 * type's versions, or two versions (or files) compared. The registry here is the one the process has loaded.
 */

type Schema = boolean | Record<string, unknown>;

/**
 * A candidate schema from its JSON text: parsed, and compiled by the registry's own validator, so a check never
 * passes a schema that could not be registered.
 *
 * @throws RegistryError (`invalid_schema`, 400) naming `source` and what is wrong.
 */
export function readCandidate(text: string, source: string): Schema {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new RegistryError('invalid_schema', `${source} is not JSON: ${(err as Error).message}`, { status: 400 });
  }
  if (typeof schema !== 'boolean' && (!schema || typeof schema !== 'object' || Array.isArray(schema)))
    throw new RegistryError('invalid_schema', `${source} is not a JSON Schema: it must be an object (or a boolean).`, {
      status: 400,
    });
  try {
    newAjv().compile(schema as Schema);
  } catch (err) {
    throw new RegistryError(
      'invalid_schema',
      `${source} is not a JSON Schema draft 2020-12 the registry compiles: ${(err as Error).message}`,
      { status: 400 },
    );
  }
  return schema as Schema;
}

/** A type's versions, oldest first, as the checker takes them. */
export function typeVersions(registry: Registry, type: string): { v: number; schema: Schema }[] {
  return [...registry.get(type).versions.values()].sort((a, b) => a.v - b.v).map((x) => ({ v: x.v, schema: x.schema }));
}

/** A candidate checked against a type's versions under `mode` (default BACKWARD) and `policy` (default lenient). */
export function checkCandidate(
  registry: Registry,
  type: string,
  candidate: Schema,
  options: { mode?: CompatMode; policy?: ContentPolicy } = {},
): CompatVerdict {
  return checkCompatibility(candidate, typeVersions(registry, type), options.mode ?? DEFAULT_COMPAT_MODE, {
    policy: options.policy ?? 'lenient',
  });
}

/**
 * A version of a type named by its number, or a schema file named by its path (anything that is not a whole number).
 *
 * @throws UnknownVersionError for a version the type does not have; RegistryError for a file that is not a schema.
 */
export function versionOrFile(registry: Registry, type: string, ref: string): { label: string; schema: Schema } {
  if (/^v?[0-9]+$/.test(ref)) {
    const v = Number(ref.replace(/^v/, ''));
    return { label: `v${v}`, schema: registry.version(type, v).schema };
  }
  let text: string;
  try {
    text = readFileSync(ref, 'utf8');
  } catch (err) {
    throw new RegistryError('invalid_schema', `Cannot read ${ref}: ${(err as Error).message}`, { status: 400 });
  }
  return { label: ref, schema: readCandidate(text, ref) };
}

/** The changes from `a` to `b` (versions or files) of a type. */
export function diffOf(
  registry: Registry,
  type: string,
  a: string,
  b: string,
  options: { policy?: ContentPolicy } = {},
): { from: string; to: string; changes: SchemaChange[] } {
  const from = versionOrFile(registry, type, a);
  const to = versionOrFile(registry, type, b);
  return { from: from.label, to: to.label, changes: diffSchemas(from.schema, to.schema, options) };
}
