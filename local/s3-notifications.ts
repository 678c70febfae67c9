import { errorMessage } from '../lib/errors.ts';
import type { ImportTrigger } from '../lib/imports/drops.ts';

/**
 * The imports bucket's event source, locally: what S3 and EventBridge do for the import function in AWS. The local S3
 * sends `ObjectCreated` notifications of `exports/` and `raw/` (local/emulators/s3.ts); each is delivered to the
 * handler as an asynchronous invocation is — one at a time here, retried twice on an error (Lambda's default for
 * asynchronous invocations), then logged — and a sweep runs on a schedule, as `rate(1 minute)` does in AWS. The
 * handler is the deployed one (functions/import-job); nothing here knows what an import is.
 */
export class S3NotificationSource {
  readonly #queue: ImportTrigger[] = [];
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly options: {
      handler: (event: ImportTrigger) => Promise<unknown>;
      log: (msg: string) => void;
      /** Between sweeps (default 60 s, as the schedule in AWS). */
      sweepEveryMs?: number;
      /** Before the first and second retry (Lambda waits about 1 and 2 minutes; locally seconds). */
      retryDelaysMs?: number[];
    },
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.deliver({ sweep: true }), this.options.sweepEveryMs ?? 60_000);
    this.#timer.unref();
  }

  /** Queues one invocation (an S3 notification, or a sweep). */
  deliver(event: ImportTrigger): void {
    if (this.#stopped) return;
    // A sweep already waiting covers another one.
    if ('sweep' in event && this.#queue.some((e) => 'sweep' in e)) return;
    this.#queue.push(event);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every queued invocation has run (tests; `tributary dev` on stop). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#queue.length = 0;
    await this.idle();
  }

  async #drain(): Promise<void> {
    for (let event = this.#queue.shift(); event; event = this.#queue.shift()) {
      const delays = this.options.retryDelaysMs ?? [1_000, 2_000];
      for (let attempt = 0; ; attempt++) {
        try {
          await this.options.handler(event);
          break;
        } catch (err) {
          if (attempt >= delays.length || this.#stopped) {
            this.options.log(
              `imports: an invocation failed ${attempt + 1} times and is dropped (the sweep retries its work): ${errorMessage(err)}`,
            );
            break;
          }
          await new Promise((r) => setTimeout(r, delays[attempt]));
        }
      }
    }
  }
}
