import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../lib/util/time.ts';

/**
 * The console's production build for `tributary dev`: `next start` answers every page at once, where `next dev`
 * compiles each page on its first visit (tens of seconds on a laptop). Built once and reused while the sources are
 * unchanged: a fingerprint of every file the build reads is kept beside the build and compared on each start.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `next build` reads: the console's code, the core it imports, the files it ships, its configuration. */
const INPUT_DIRS = ['app', 'components', 'lib', 'schemas', 'queries', 'public'];
const INPUT_FILES = ['proxy.ts', 'next.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json'];
const STAMP = 'tributary-build.json';

function* files(dir: string): Generator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/** A digest of every input of the build (paths and contents), so any edit, addition or removal changes it. */
export function consoleSourceFingerprint(root = ROOT): string {
  const h = createHash('sha256');
  const inputs = [
    ...INPUT_DIRS.flatMap((d) => [...files(path.join(root, d))]),
    ...INPUT_FILES.map((f) => path.join(root, f)).filter((f) => existsSync(f)),
  ];
  for (const f of inputs) {
    h.update(path.relative(root, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

const stampFile = (root: string) => path.join(root, '.next', STAMP);

const buildId = (root: string) => readFileSync(path.join(root, '.next', 'BUILD_ID'), 'utf8').trim();

/**
 * Whether `.next` holds our production build of exactly these sources: the stamp names the fingerprint and the build
 * it was written for, so another build in `.next` (OpenNext's for `sst deploy`) is not taken for ours.
 */
export function consoleBuildCurrent(fingerprint: string, root = ROOT): boolean {
  try {
    const stamp = JSON.parse(readFileSync(stampFile(root), 'utf8')) as { fingerprint?: string; buildId?: string };
    return stamp.fingerprint === fingerprint && stamp.buildId === buildId(root);
  } catch {
    return false;
  }
}

/** One build at a time per checkout: a second `tributary dev` waits for the first one's build and then reuses it. */
async function withBuildLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(root, '.next-build.lock');
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        continue;
      }
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      // A lock left by a process that died (or an old, unreadable one) is taken over.
      if (!alive || Date.now() - statSync(lock).mtimeMs > 30 * 60_000) rmSync(lock, { force: true });
      else await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Runs `next build` in `root` and stamps the result with the sources' fingerprint; `relay` streams Next's output
 * instead of keeping its end for the error.
 */
async function nextBuild(root: string, relay: boolean): Promise<void> {
  const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, 'build'], {
      cwd: root,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NEXT_IGNORE_INCORRECT_LOCKFILE: '1' },
      stdio: ['ignore', relay ? 'inherit' : 'pipe', relay ? 'inherit' : 'pipe'],
    });
    const keep = (b: Buffer) => {
      output.push(b.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    rmSync(stampFile(root), { force: true });
    throw new Error(
      `The console's production build failed (next build exited ${code})${relay ? '; its output is above' : `; fix the error below, or start with --console-dev:\n${output.join('').split('\n').slice(-30).join('\n')}`}`,
    );
  }
  // Taken again after the build: `next build` may rewrite an input it owns (tsconfig.json's include list).
  writeFileSync(
    stampFile(root),
    JSON.stringify({
      fingerprint: consoleSourceFingerprint(root),
      buildId: buildId(root),
      builtAt: new Date().toISOString(),
    }),
  );
}

/**
 * Makes sure `.next` holds a production build of the current sources, running `next build` when it does not. Returns
 * whether it built and how long that took. A build made for a deploy (`npm run build:console`, which OpenNext runs:
 * standalone output, the deploy's environment) serves `next start` as well — the console prerenders nothing that
 * reads the environment — so it is reused too.
 *
 * @throws Error with the end of Next's output when the build fails (the previous build, if any, is left unused).
 */
export async function ensureConsoleBuild(
  log: (msg: string) => void = () => {},
  root = ROOT,
): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  return withBuildLock(root, async () => {
    const fingerprint = consoleSourceFingerprint(root);
    if (consoleBuildCurrent(fingerprint, root)) return { built: false, ms: Date.now() - t0 };
    log('console: building for production (once, until its sources change; --console-dev for next dev)…');
    await nextBuild(root, false);
    return { built: true, ms: Date.now() - t0 };
  });
}

/**
 * `npm run build:console`, the command OpenNext runs for `sst deploy`: always builds (with the deploy's environment)
 * and stamps the build, so `tributary dev` and the browser tests that follow reuse it instead of building again.
 */
export async function buildConsoleForDeploy(root = ROOT): Promise<void> {
  await withBuildLock(root, () => nextBuild(root, true));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildConsoleForDeploy().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
