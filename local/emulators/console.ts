import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.ts';

// A wrapper process around `next start` (or `next dev`): Next cannot watch an IPC channel itself, so this child does,
// and takes Next down with it when `tributary dev` goes away, even on SIGKILL.
const [host = '127.0.0.1', portArg = '3000', mode = 'production'] = process.argv.slice(2);

runChild('console', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
  const command = mode === 'dev' ? 'dev' : 'start';
  const next = spawn(process.execPath, [nextBin, command, '--hostname', host, '--port', portArg], {
    cwd: root,
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: '1',
      NEXT_IGNORE_INCORRECT_LOCKFILE: '1',
      // The client's address for the sign-in throttle, from the socket (what CloudFront's function does in AWS).
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} --import=${new URL('./client-address.mjs', import.meta.url).href}`.trim(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const relay = (b: Buffer) => {
    for (const line of b.toString().split('\n'))
      if (/ready|error|warn/i.test(line)) process.stderr.write(`console: ${line.trim()}\n`);
  };
  next.stdout?.on('data', relay);
  next.stderr?.on('data', relay);
  next.once('exit', (code) => {
    process.stderr.write(`console: next exited (${code})\n`);
    process.exit(code ?? 1);
  });
  return {
    port: Number(portArg),
    close: () =>
      new Promise<void>((resolve) => {
        if (next.exitCode !== null) return resolve();
        next.removeAllListeners('exit');
        const kill = setTimeout(() => next.kill('SIGKILL'), 4_000);
        next.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        next.kill('SIGTERM');
      }),
  };
});
