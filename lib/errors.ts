/**
 * Root of every error Tributary raises on purpose. Each module derives its own base class from it so callers can catch
 * a whole module's failures (`instanceof IngestError`) while the CLI and HTTP edges can still tell a user error from a bug.
 */
export class TributaryError extends Error {
  /** Machine-readable code, stable across releases (used in API bodies and `--json` output). */
  readonly code: string;
  /**
   * The HTTP status an edge answers with: 4xx for what the caller can fix, 5xx for what it cannot (the default, 500:
   * a failure of ours or of a dependency). Routes map every error with one `instanceof TributaryError`.
   */
  readonly status: number;

  constructor(code: string, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options?.status ?? 500;
  }
}

/** Configuration is missing or malformed; raised once at start-up so nothing runs half-configured. */
export class ConfigError extends TributaryError {
  constructor(message: string) {
    super('config_error', message);
  }
}

/** Returns the message of anything thrown, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
