import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface RunningConsole {
  url: string;
  stop(): Promise<void>;
}

/** Starts the Next.js console (`next dev`) as a child process; it becomes reachable a few seconds after the pipeline. */
export function startConsole(host: string, port: number, env: NodeJS.ProcessEnv, log: (m: string) => void): RunningConsole {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
  const child = spawn(process.execPath, [nextBin, 'dev', '--hostname', host, '--port', String(port)], {
    cwd: root,
    env: { ...env, NEXT_TELEMETRY_DISABLED: '1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  child.stdout?.on('data', (b: Buffer) => {
    const line = b.toString().trim();
    if (/ready|error/i.test(line)) log(`console: ${line.split('\n')[0]}`);
  });
  child.stderr?.on('data', (b: Buffer) => log(`console: ${b.toString().trim().split('\n')[0]}`));
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
