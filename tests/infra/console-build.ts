/**
 * The console built for real, the way `sst deploy` builds it: the offline deploy records the command SST's `Nextjs`
 * runs (its `ConsoleBuilder`, a `command:local:Command`: OpenNext at the version stacks/console.ts pins), and this runs
 * that command on this checkout with the build environment the deploy passes (SST's variables and the console's
 * TRIBUTARY_* environment). Its output is what SST would zip: `.open-next/` (the server function's bundle is named in
 * `.open-next/open-next.output.json`). Runs once per `npm run test:infra` (tests/infra/setup.ts).
 *
 * It needs the npm registry (npx fetches OpenNext, as `sst deploy` does). Offline, OpenNext cannot download sharp's
 * libvips for the image optimizer and says so in the log; the server function, which is what is checked, does not
 * need it. The build writes `.next/` and `.open-next/` in the repository (both ignored by git), as `sst deploy` does.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './harness.ts';
import type { RecordedResource } from './runtime.ts';

export interface ConsoleBuild {
  /** What SST's Nextjs would run (the ConsoleBuilder's `create`). */
  command: string;
  /** Exit code of the command (null when killed). */
  code: number | null;
  ms: number;
  /** The last part of its output, for failure messages; the whole of it is in `logFile`. */
  tail: string;
  logFile: string;
  /** `.open-next` of the repository, where the command wrote its output. */
  outDir: string;
}

/** `TRIBUTARY_INFRA_CONSOLE_BUILD=skip` skips the build (for quick runs of other infra tests; its tests then fail). */
export const SKIP_CONSOLE_BUILD = process.env.TRIBUTARY_INFRA_CONSOLE_BUILD === 'skip';

const BUILD_TIMEOUT_MS = 15 * 60_000;

/** The variables the deploy adds to the build's environment: SST's and the console's own, none of the harness's. */
function deployBuildEnv(recorded: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(recorded).filter(
      ([k]) =>
        k === 'SST' ||
        k.startsWith('SST_RESOURCE_') ||
        (k.startsWith('TRIBUTARY_') && !k.startsWith('TRIBUTARY_INFRA_')),
    ),
  );
}

/** Runs the console's build command of a deployed stage (its `ConsoleBuilder` resource) in the repository. */
export async function buildConsole(resources: RecordedResource[]): Promise<ConsoleBuild> {
  const builders = resources.filter((r) => r.type === 'command:local:Command' && r.name === 'ConsoleBuilder');
  if (builders.length !== 1)
    throw new Error(`expected one ConsoleBuilder command in the deploy, found ${builders.length}`);
  const { create, environment } = builders[0]!.inputs as { create: string; environment: Record<string, string> };
  const env: NodeJS.ProcessEnv = { ...process.env, ...deployBuildEnv(environment), NEXT_TELEMETRY_DISABLED: '1' };
  for (const k of Object.keys(env))
    if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k.startsWith('TRIBUTARY_INFRA_')) delete env[k];
  const logFile = path.join(os.tmpdir(), `tributary-console-build-${process.pid}.log`);
  const log = fs.openSync(logFile, 'w');
  const started = Date.now();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(create, { cwd: REPO, env, shell: true, stdio: ['ignore', log, log], detached: true });
      // The build spawns npm, next and OpenNext's own installs: kill the whole group on a timeout.
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), BUILD_TIMEOUT_MS);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const text = fs.readFileSync(logFile, 'utf8');
    return {
      command: create,
      code,
      ms: Date.now() - started,
      tail: text.slice(-6000),
      logFile,
      outDir: path.join(REPO, '.open-next'),
    };
  } finally {
    fs.closeSync(log);
  }
}
