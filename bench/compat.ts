/**
 * The compatibility checker (lib/registry/compat.ts) on a long history: the shipped `transactions` schema evolved
 * through 100 versions, each compatible with the one before (a new optional field, a widened bound, a type made
 * nullable, in turn), and a candidate checked BACKWARD_TRANSITIVE against all of them. The baseline is what
 * registering a version costs anyway: compiling the candidate with ajv (as lib/registry/registry.ts does).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkCompatibility } from '../lib/registry/compat.ts';
import { newAjv } from '../lib/registry/registry.ts';
import { now, percentile, QUICK } from './util.ts';

export interface CompatBenchResult {
  versions: number;
  /** Changes the transitive check found (against every version), and whether it passed. */
  changes: number;
  compatible: boolean;
  p50Ms: number;
  p95Ms: number;
  /** ajv compile of the candidate, p50. */
  compileP50Ms: number;
  ratio: number;
  target: { p95Ms: number };
}

type S = Record<string, unknown>;

/** Version `n` of the history: version n-1 with one more compatible change. */
function evolve(prev: S, n: number): S {
  const next = structuredClone(prev) as { properties: Record<string, S> };
  switch (n % 3) {
    case 0:
      next.properties[`extra_${n}`] = { type: ['string', 'null'], maxLength: 64, description: `added in v${n}` };
      break;
    case 1: {
      const earlier = Object.keys(next.properties).filter((k) => k.startsWith('extra_'));
      const k = earlier[earlier.length - 1];
      if (k) next.properties[k] = { ...next.properties[k], maxLength: 64 + n };
      break;
    }
    default:
      next.properties[`note_${n}`] = { type: ['string', 'integer', 'null'] };
  }
  return next as S;
}

export function runCompatBench(): CompatBenchResult {
  const base = JSON.parse(
    readFileSync(path.join(import.meta.dirname, '../schemas/transactions/v1.schema.json'), 'utf8'),
  ) as S;
  const count = 100;
  const versions: { v: number; schema: S }[] = [{ v: 1, schema: base }];
  for (let n = 2; n <= count; n++) versions.push({ v: n, schema: evolve(versions[n - 2]!.schema, n) });
  const candidate = evolve(versions[count - 1]!.schema, count + 1);
  const rounds = QUICK ? 10 : 60;
  const checkMs: number[] = [];
  const compileMs: number[] = [];
  let last = checkCompatibility(candidate, versions, 'BACKWARD_TRANSITIVE');
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    last = checkCompatibility(candidate, versions, 'BACKWARD_TRANSITIVE');
    checkMs.push(now() - t0);
    // The registry's own validator (lib/registry/registry.ts).
    const ajv = newAjv();
    const t1 = now();
    ajv.compile(candidate);
    compileMs.push(now() - t1);
  }
  const p50 = percentile(checkMs, 50);
  const compileP50 = percentile(compileMs, 50);
  return {
    versions: count,
    changes: last.changes.length,
    compatible: last.compatible,
    p50Ms: p50,
    p95Ms: percentile(checkMs, 95),
    compileP50Ms: compileP50,
    ratio: p50 / compileP50,
    target: { p95Ms: 200 },
  };
}
