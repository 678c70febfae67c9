/**
 * Shared plumbing of the emulator child processes: report readiness to the parent over IPC and exit when the parent
 * goes away (even if it was SIGKILLed), so `tributary dev` never leaves orphans behind.
 */
export function runChild(name: string, start: () => Promise<{ port: number; close: () => Promise<void> }>): void {
  let closing = false;
  let close: (() => Promise<void>) | undefined;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => process.exit(code), 5_000);
    timer.unref();
    try {
      await close?.();
    } finally {
      process.exit(code);
    }
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  process.on('disconnect', () => void shutdown(0));
  start()
    .then((server) => {
      close = server.close;
      process.send?.({ ready: true, port: server.port });
    })
    .catch((err: unknown) => {
      process.send?.({ ready: false, error: `${name}: ${err instanceof Error ? err.message : String(err)}` });
      process.exit(1);
    });
}
