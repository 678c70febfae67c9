import { TributaryError } from '../errors.ts';

/** A table definition (`tables/<name>.json`) that cannot be used: raised when the definitions load. */
export class TableDefinitionError extends TributaryError {
  constructor(message: string) {
    super('table_definition', message);
  }
}

/** An export for a table nobody defined (404: add the definition, then drop the file again). */
export class UnknownTableError extends TributaryError {
  constructor(message: string) {
    super('unknown_table', message, { status: 404 });
  }
}

/** One row of an export the import refused, with where it is in the file and why. */
export interface BadRow {
  /** Line in the file (1-based, the header counted) where the CSV reader found it; absent when only the row is known. */
  line?: number;
  /** Row of data (1-based, the header not counted): for key problems, found after every row was read. */
  row?: number;
  /** The row's text as the file has it, when the reader kept it. */
  text?: string;
  problem: string;
}

/**
 * An export refused as a whole (422): rows that do not parse, or keys that are empty or repeated. A partial export
 * would read as mass deletes, so nothing of it is applied; the bad rows are listed (the first ones) and quarantined.
 */
export class ExportRefusedError extends TributaryError {
  constructor(
    message: string,
    readonly badRows: BadRow[],
    readonly totalBad: number,
  ) {
    super('export_refused', message, { status: 422 });
  }
}

/** An object key under `exports/` that is not `<tenant>/<table>/<version>/<file>` (400: drop it where it belongs). */
export class ExportKeyError extends TributaryError {
  constructor(message: string) {
    super('export_key', message, { status: 400 });
  }
}

/** An import that is not in the registry (404). */
export class ImportNotFoundError extends TributaryError {
  constructor(id: string) {
    super('import_not_found', `No import ${JSON.stringify(id)}; \`tributary import list\` shows them.`, {
      status: 404,
    });
  }
}

/** A table whose definition changed since its last applied export (409: restore it, or import under a new name). */
export class TableChangedError extends TributaryError {
  constructor(message: string) {
    super('table_changed', message, { status: 409 });
  }
}

/** An import asked for what its status does not allow, e.g. approving one that is not held (409). */
export class ImportStateError extends TributaryError {
  constructor(message: string) {
    super('import_state', message, { status: 409 });
  }
}

/** The job failed in a way the next run may not: the stream kept refusing operations. Run the table again. */
export class ImportPublishError extends TributaryError {
  constructor(message: string) {
    super('import_publish', message, { status: 503 });
  }
}

/** The last published snapshot of a table is gone from the lake (503: restore it; the import waits). */
export class ImportSnapshotError extends TributaryError {
  constructor(message: string) {
    super('import_snapshot', message, { status: 503 });
  }
}

/** A request about imports that cannot be done as asked (400 unless said otherwise), saying what to do instead. */
export class ImportRequestError extends TributaryError {
  constructor(message: string, status = 400) {
    super('import_request', message, { status });
  }
}
