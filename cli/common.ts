import { dataDirFrom, loadConfig, localApiKey, type TributaryConfig } from '../lib/config.ts';
import path from 'node:path';
import { TributaryError } from '../lib/errors.ts';

/** A mistake in how the CLI was called: exit code 2 with the message and a hint. */
export class UsageError extends TributaryError {
  constructor(message: string) {
    super('usage', message);
  }
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  isTTY: !!process.stderr.isTTY,
};

/** The data directory of the local runtime (flag, else TRIBUTARY_DATA_DIR, else ./.data). */
export function dataDirOf(flag: string | undefined): string {
  return dataDirFrom(process.env, flag);
}

/** The configuration of a command, with its `--data-dir` flag (when given) in place of TRIBUTARY_DATA_DIR. */
export function commandConfig(dataDirFlag: string | undefined): TributaryConfig {
  return loadConfig({ ...process.env, TRIBUTARY_DATA_DIR: dataDirOf(dataDirFlag) });
}

/** The API key to use: flag, TRIBUTARY_API_KEY, or the local runtime's key file. */
export function resolveApiKey(flag: string | undefined, dataDir: string): string {
  const key = localApiKey(dataDir, { given: flag });
  if (key) return key;
  throw new UsageError(
    `No API key: pass --api-key, set TRIBUTARY_API_KEY, or start \`tributary dev\` (it writes ${path.join(dataDir, 'api-key')}).`,
  );
}

export function intFlag(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}.`);
  return n;
}

export function numberFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}.`);
  return n;
}

export const fmt = (n: number) => n.toLocaleString('en-US');
