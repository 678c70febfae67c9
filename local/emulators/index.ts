import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunningEmulator {
  name: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * Starts an emulator as a child process (TypeScript through tsx) and resolves once it listens. The child exits when
 * this process disconnects, so a crashed parent does not leave emulators holding the ports.
 */
export function startEmulator(
  name: string,
  script: string,
  args: string[],
  nodeArgs: string[] = [],
  timeoutMs = 15_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningEmulator> {
  const child = fork(here(script), args, {
    execArgv: [...nodeArgs, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start-up (code ${code}); is its port already in use?`));
    });
    child.once('message', (msg: { ready: boolean; port?: number; error?: string }) => {
      clearTimeout(timer);
      if (!msg.ready) return reject(new Error(msg.error ?? `${name} failed to start`));
      child.removeAllListeners('exit');
      resolve({
        name,
        port: msg.port!,
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** kinesalite (Kinesis API) backed by LevelDB in `dir`. */
export function startKinesis(host: string, port: number, dir: string): Promise<RunningEmulator> {
  return startEmulator('kinesalite', './kinesis.ts', [host, String(port), dir]);
}

/** s3rver (S3 API) storing objects under `dir`, creating `buckets` if missing. */
export function startS3(
  host: string,
  port: number,
  dir: string,
  buckets: string[],
  notifications?: { bucket: string; prefixes: string[] },
  cors?: { bucket: string; origins: string[] },
): Promise<RunningEmulator> {
  return startEmulator(
    's3rver',
    './s3.ts',
    [
      host,
      String(port),
      dir,
      buckets.join(','),
      notifications ? JSON.stringify(notifications) : '',
      cors ? JSON.stringify(cors) : '',
    ],
    ['--openssl-legacy-provider'],
  );
}

/** The Next.js console (`next dev`) behind a wrapper that exits with this process. */
/**
 * The console: `next start` over the production build (`local/console-build.ts` makes sure it is current), or `next
 * dev` when asked (`--console-dev`: edits show at once, each page compiles on its first visit).
 */
export function startConsole(
  host: string,
  port: number,
  env: NodeJS.ProcessEnv,
  mode: 'production' | 'dev' = 'production',
): Promise<RunningEmulator> {
  return startEmulator('console', './console.ts', [host, String(port), mode], [], 30_000, env);
}

/**
 * PGlite (Postgres in WebAssembly) served over the Postgres wire protocol, data under `dir`: the OLTP database of
 * `tributary dev` when DATABASE_URL is not set. PGlite needs more start-up time than the others (it initdb's a new
 * directory) and memory (its WebAssembly heap).
 */
export function startPglite(host: string, port: number, dir: string): Promise<RunningEmulator> {
  return startEmulator('pglite', './pglite.ts', [host, String(port), dir], [], 60_000);
}
