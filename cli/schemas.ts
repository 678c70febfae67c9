import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMPAT_MODES, CompatError, type ContentPolicy, parseMode, type SchemaChange } from '../lib/registry/compat.ts';
import { checkCandidate, diffOf, readCandidate, typeVersions } from '../lib/registry/check.ts';
import { defaultRegistry, RegistryError } from '../lib/registry/registry.ts';
import { UsageError, type Io } from './common.ts';

export const schemasHelp = `tributary schemas <list|show|diff|check> [options]

The event types and their schema versions (JSON Schema draft 2020-12, schemas/<type>/; TRIBUTARY_SCHEMAS_DIR
overrides the directory), and the compatibility checker (docs/architecture.md §2).

  list                          every type with its versions, latest, table and partitions
  show <type> [--version N]     a version's schema (default the latest) and the type's manifest
  diff <type> <a> <b>           every change from a to b, each a version number or a schema file
  check <type> <file>           a candidate against the type's versions: exit 0 when compatible, 1 when not
    --mode MODE                 ${COMPAT_MODES.join(', ')} (default BACKWARD); _TRANSITIVE checks every version
    --policy strict|lenient     what adding or removing a property of an open object means (default lenient: nothing;
                                strict: Confluent's verdicts, a narrowing or a widening)
  --json                        machine-readable; check prints {"compatible", "mode", "policy", "changes": [{"path",
                                "kind", "breaking", "message", "fix", "against"}], "evidence": null}

Evidence from the lake and the quarantine, and registering versions at run time, are not available yet.
`;

function policyFlag(raw: string | undefined): ContentPolicy {
  if (raw === undefined) return 'lenient';
  if (raw === 'strict' || raw === 'lenient') return raw;
  throw new UsageError(`--policy is strict or lenient, got ${JSON.stringify(raw)}.`);
}

const line = (c: SchemaChange & { breaking?: boolean; against?: number }) =>
  `  ${c.breaking ? 'BREAKING ' : c.breaking === false ? '         ' : ''}${c.path || '/'}  ${c.kind}: ${c.message}${c.breaking && c.fix ? `\n             → ${c.fix}` : ''}`;

export async function schemasCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean' },
      version: { type: 'string' },
      mode: { type: 'string' },
      policy: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const want = (n: number, usage: string) => {
    if (positionals.length !== n) throw new UsageError(`Usage: tributary schemas ${usage}.`);
  };
  const registry = defaultRegistry();
  const typeOf = (name: string) => {
    if (!registry.has(name))
      throw new UsageError(`Unknown event type ${JSON.stringify(name)}; types: ${registry.names().join(', ')}.`);
    return name;
  };
  try {
    switch (sub) {
      case 'list': {
        want(0, 'list');
        const types = registry.names().map((name) => {
          const t = registry.get(name);
          return {
            type: name,
            versions: typeVersions(registry, name).map((v) => v.v),
            latest: t.latest.v,
            table: t.manifest.table,
            partitions: ['dt', 'hour', ...t.manifest.partitions.map((p) => p.name)],
          };
        });
        if (values.json) io.out(JSON.stringify({ types }));
        else
          io.out(
            types
              .map(
                (t) =>
                  `${t.type.padEnd(14)} v${t.latest} (versions ${t.versions.join(', ')})  table ${t.table}  partitions ${t.partitions.join(', ')}`,
              )
              .join('\n'),
          );
        return 0;
      }
      case 'show': {
        want(1, 'show <type> [--version N]');
        const type = typeOf(positionals[0]!);
        const v = values.version === undefined ? undefined : Number(values.version.replace(/^v/, ''));
        if (v !== undefined && !Number.isInteger(v))
          throw new UsageError(`--version is a version number, got ${JSON.stringify(values.version)}.`);
        const sv = registry.version(type, v);
        const out = {
          type,
          version: sv.v,
          latest: registry.get(type).latest.v,
          manifest: registry.get(type).manifest,
          schema: sv.schema,
        };
        io.out(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
        return 0;
      }
      case 'diff': {
        want(3, 'diff <type> <a> <b> (each a version number or a schema file)');
        const type = typeOf(positionals[0]!);
        const d = diffOf(registry, type, positionals[1]!, positionals[2]!, { policy: policyFlag(values.policy) });
        if (values.json) io.out(JSON.stringify({ type, ...d }));
        else
          io.out(
            d.changes.length
              ? [
                  `${type}: ${d.changes.length} change(s) from ${d.from} to ${d.to}`,
                  ...d.changes.map((c) => `${line(c)} [${c.direction}]`),
                ].join('\n')
              : `${type}: no change from ${d.from} to ${d.to} that accepts or refuses anything.`,
          );
        return 0;
      }
      case 'check': {
        want(2, 'check <type> <file> [--mode MODE] [--policy strict|lenient]');
        const type = typeOf(positionals[0]!);
        const file = positionals[1]!;
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
        }
        const candidate = readCandidate(text, file);
        const verdict = checkCandidate(registry, type, candidate, {
          mode: values.mode === undefined ? undefined : parseMode(values.mode),
          policy: policyFlag(values.policy),
        });
        if (values.json) io.out(JSON.stringify({ type, ...verdict, evidence: null }));
        else {
          const breaking = verdict.changes.filter((c) => c.breaking);
          io.out(
            [
              `${type}: ${file} is ${verdict.compatible ? 'compatible' : 'NOT compatible'} under ${verdict.mode} (${verdict.policy} policy): ${verdict.changes.length} change(s), ${breaking.length} breaking.`,
              ...verdict.changes.map((c) => `${line(c)}  (against v${c.against})`),
            ].join('\n'),
          );
        }
        return verdict.compatible ? 0 : 1;
      }
      default:
        throw new UsageError(
          sub
            ? `Unknown schemas command ${JSON.stringify(sub)}; use list, show, diff or check.`
            : 'Say what to do: tributary schemas list | show <type> | diff <type> <a> <b> | check <type> <file>.',
        );
    }
  } catch (err) {
    // A version the type lacks, a mode that is not one: how the command was called.
    if ((err instanceof RegistryError && err.code === 'unknown_version') || err instanceof CompatError)
      throw new UsageError(err.message);
    throw err;
  }
}
