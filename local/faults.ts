import type { S3Client } from '@aws-sdk/client-s3';
import type { KinesisHandler } from './poller.ts';

/**
 * Fault injection for the local runtime, so tests can prove the pipeline loses and duplicates nothing when consumers
 * fail. Set TRIBUTARY_FAULTS to JSON, e.g. `{"lakeWriter":{"failInvocations":2}}`. Never active unless set.
 */
export interface Faults {
  lakeWriter?: {
    /** The first N invocations throw (a function error: the poller retries and bisects). */
    failInvocations?: number;
    /** The first N lake PutObject calls whose key matches `failPutsMatching` fail (partial batch failure). */
    failPuts?: number;
    failPutsMatching?: string;
    /** The process SIGKILLs itself right after the N-th lake object is written: a crash mid-batch. */
    crashAfterObjects?: number;
  };
}

export function parseFaults(raw: string | undefined): Faults {
  if (!raw) return {};
  try {
    return JSON.parse(raw) as Faults;
  } catch {
    throw new Error(`TRIBUTARY_FAULTS is not JSON: ${raw}`);
  }
}

/** Wraps a consumer so its first invocations fail. */
export function withInvocationFaults(handler: KinesisHandler, failInvocations = 0): KinesisHandler {
  let left = failInvocations;
  return async (event, context) => {
    if (left > 0) {
      left--;
      throw new Error(`injected fault: invocation failed (${left} more to fail)`);
    }
    return handler(event, context);
  };
}

/** Adds S3 middleware that fails or crashes on lake object writes as the faults say. */
export function addS3Faults(s3: S3Client, faults: NonNullable<Faults['lakeWriter']>): void {
  let failLeft = faults.failPuts ?? 0;
  const match = faults.failPutsMatching ? new RegExp(faults.failPutsMatching) : /^events\//;
  let written = 0;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string };
      const isLakePut =
        context.commandName === 'PutObjectCommand' && typeof input.Key === 'string' && input.Key.startsWith('events/');
      if (isLakePut && failLeft > 0 && match.test(input.Key!)) {
        failLeft--;
        throw Object.assign(new Error(`injected fault: PutObject ${input.Key} failed`), { name: 'InjectedFault' });
      }
      const out = await next(args);
      if (isLakePut && faults.crashAfterObjects && ++written >= faults.crashAfterObjects) {
        process.kill(process.pid, 'SIGKILL');
      }
      return out;
    },
    { step: 'initialize', name: 'tributaryFaults' },
  );
}
