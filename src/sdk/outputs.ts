/**
 * What each operator's task outputs (its XCom): the type a downstream task reads through a
 * reference (`load.rows`), checked by tsc, and the fields `baton dags validate` checks a
 * template's `{{ xcom.<task>.<field> }}` against. References and counts, never the data.
 */

/** sql with `output: 'rowCount'` (the default): the rows the statement returned or changed. */
export interface SqlRowCountOutput {
  rows: number;
}

/** loadCsv: the table, and the counts of what was loaded and refused. */
export interface LoadCsvOutput {
  table: string;
  /** Rows now in the table (or its ds). */
  rows: number;
  rejected: number;
  /** rows + rejected. */
  records: number;
  /** Records rejected by the key rule (a repeated key). */
  duplicates: number;
  /** Rows the load replaced. */
  replaced: number;
  /** Lines of the file: header + blank + the records' lines. */
  lines: number;
  bytes: number;
}

/** dbt: each node's status. */
export interface DbtOutput {
  command: string;
  /** Each node's status by name (when there are at most 100 nodes). */
  nodes: Record<string, string>;
  /** How many nodes ended in each status. */
  statuses: Record<string, number>;
}

/** command: its exit code and the last lines of its output. */
export interface CommandOutput {
  exitCode: number;
  /** The last lines of its output (stdout and stderr), trimmed. */
  tail: string;
}

/** http: the status, and the response's JSON when it is small enough for XCom. */
export interface HttpOutput<J = unknown> {
  status: number;
  bytes: number;
  json: J;
}

/** duckdb: the Parquet file written. */
export interface DuckdbOutput {
  path: string;
  rows: number;
  bytes: number;
}

/** fileSensor, sqlSensor: how many checks it took. */
export interface SensorOutput {
  checks: number;
}

/** branch: the task ids it followed. */
export interface BranchOutput {
  follow: string[];
}

/** shortCircuit: whether what follows runs. */
export interface ShortCircuitOutput {
  condition: boolean;
}

/** notify: whether the mail went out or, with no SMTP server set, was logged. */
export interface NotifyOutput {
  delivered: 'mailed' | 'logged';
}

/** empty: nothing. */
export type EmptyOutput = Record<never, never>;

/**
 * The fields of each operator's output, for the checks of templates (a template cannot be read
 * by tsc). `*`: any field (a first row, an HTTP body); undefined: the output depends on settings.
 */
export const OUTPUT_FIELDS = {
  loadCsv: ['table', 'rows', 'rejected', 'records', 'duplicates', 'replaced', 'lines', 'bytes'],
  dbt: ['command', 'nodes', 'statuses'],
  command: ['exitCode', 'tail'],
  http: ['status', 'bytes', 'json'],
  duckdb: ['path', 'rows', 'bytes'],
  fileSensor: ['checks'],
  sqlSensor: ['checks'],
  branch: ['follow'],
  shortCircuit: ['condition'],
  notify: ['delivered'],
  empty: [],
} as const satisfies Record<string, readonly string[]>;
