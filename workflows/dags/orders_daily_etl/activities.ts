/**
 * orders_daily_etl's own tasks: the warehouse written, audited and published. extract reads the
 * day's file under the orders contract into a table shaped as the day's partition (and its
 * rejects beside it); transform applies the key rule; load audits the day and swaps it in, in one
 * transaction; validate checks the published day, every line of the file accounted for; dbtRun
 * builds this DAG's dbt models (dbt/ beside this file).
 */
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import {
  failTask,
  inTransaction,
  isStatementError,
  mostCommonRejects,
  openDataFile,
  parseDs,
  stageCsv,
  whileHeartbeating,
  withClient,
  type StagedCsv,
  type TaskContext,
} from 'baton/task';
import {
  DEFAULT_MAX_REJECTED_RATIO,
  ORDERS_CONTRACT,
  type DbtModelResult,
  type ExtractFromDbInput,
  type ExtractResult,
  type LoadInput,
  type LoadResult,
  type PartitionInput,
  type TransformInput,
  type TransformResult,
  type ValidateInput,
  type ValidateResult,
} from './contract';
import { applyKeyRule } from './key-rule';
import { createDayTable, rawPath, stagingTables } from './warehouse';

/** ds validated for a task: bad input is a non-retryable failure that names the value. */
function activityDs(value: unknown): string {
  try {
    return parseDs(value);
  } catch (err) {
    throw failTask((err as Error).message, 'InvalidLogicalDate');
  }
}

/** A share as a refused load states it: `66.7%`. */
const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

async function count(client: PoolClient, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

/** extract's result from what the reader staged. */
function extractResult(staged: StagedCsv, file: string, stagingTable: string): ExtractResult {
  return {
    rowCount: staged.records,
    file,
    bytes: staged.bytes,
    stagingTable,
    stagedRows: staged.loaded,
    stagedRejects: staged.rejected,
    lines: staged.account,
    loadedLines: staged.loadedLines,
    rejectedLines: staged.rejectedLines,
    ...(staged.keyCandidates !== undefined ? { keyCandidates: staged.keyCandidates } : {}),
  };
}

/**
 * Reads `<data dir>/raw/orders_<ds>.csv` under the orders contract into the day's table and its
 * rejects, each with its line: one consistent read of a file inside the data directory.
 */
export async function extract({ ds: dsIn }: PartitionInput, context: TaskContext): Promise<ExtractResult> {
  const { logger } = context;
  const pool = context.connection('warehouse');
  const ds = activityDs(dsIn);
  const t = stagingTables(ds);
  const opened = await openDataFile(
    context.dataDir,
    rawPath(ds),
    (file) => `input file not found: ${file} (orders_daily_etl reads <data dir>/raw/orders_<ds>.csv)`,
  );
  try {
    const staged = await whileHeartbeating(
      stageCsv({
        pool,
        source: opened,
        name: opened.file,
        contract: ORDERS_CONTRACT,
        ds,
        goodTable: { name: t.clean, create: (client) => createDayTable(client, ds, t.clean) },
        rejectsTable: t.rejected,
        keyCandidates: t.keys,
      }),
      () => ({ bytes: opened.bytesRead(), of: opened.info.size }),
    );
    await opened.checkUnchanged();
    logger.info(
      { ds, file: opened.file, rows: staged.records, loaded: staged.loaded, rejected: staged.rejected, lines: staged.account.lines },
      'extract: staged',
    );
    return extractResult(staged, opened.file, t.clean);
  } finally {
    await opened.handle.close();
  }
}

/**
 * The database source: the ds rows of `source.orders` on a named connection, COPY out of the
 * source (one read-only snapshot) read as CSV under the same contract. A row's `line` is its
 * line in that CSV (the header is line 1), by order_id. Transform, load and validate then work
 * as for the file.
 */
export async function extractFromDb({ ds: dsIn, connId = 'warehouse' }: ExtractFromDbInput, context: TaskContext): Promise<ExtractResult> {
  const { logger } = context;
  const pool = context.connection('warehouse');
  const ds = activityDs(dsIn);
  const t = stagingTables(ds);
  const sourcePool = context.connection(connId);
  const name = `${connId}:source.orders`;
  try {
    const staged = await withClient(sourcePool, async (source) => {
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // COPY takes no bind parameters: ds goes in as a bound setting the query reads back.
      await source.query("SELECT set_config('baton.ds', $1, true), set_config('datestyle', 'ISO', true)", [ds]);
      const copyOut = source.query(
        copyTo(
          `COPY (SELECT order_id, customer_id, "date" AS order_date, amount, status
                 FROM source.orders WHERE "date" = current_setting('baton.ds')::date
                 ORDER BY order_id, customer_id, amount, status) TO STDOUT WITH (FORMAT csv, HEADER true)`,
        ),
      );
      let bytes = 0;
      const result = await whileHeartbeating(
        stageCsv({
          pool,
          source: copyOut,
          name,
          contract: ORDERS_CONTRACT,
          ds,
          goodTable: { name: t.clean, create: (client) => createDayTable(client, ds, t.clean) },
          rejectsTable: t.rejected,
          keyCandidates: t.keys,
          onProgress: (b) => (bytes = b),
        }),
        () => ({ bytes }),
      );
      await source.query('COMMIT');
      return result;
    });
    logger.info({ ds, connId, rows: staged.records, loaded: staged.loaded, rejected: staged.rejected }, 'extract_from_db: staged');
    return { ...extractResult(staged, name, t.clean), bytes: 0 };
  } catch (err) {
    if (isStatementError(err)) {
      throw failTask(
        `extract_from_db on ${connId}: ${(err as Error).message} (Baton reads source.orders ("date" date, order_id, customer_id, amount, status))`,
        'SourceQueryFailed',
      );
    }
    throw err;
  }
}

/**
 * The key rule: of several records of one order_id the first (by line) stays, the others move
 * to the rejects, and the day's table gets the primary key its partition needs. Checks first
 * that staging holds what extract staged.
 */
export async function transform(
  { ds: dsIn, rowCount, stagedRows, stagedRejects, keyCandidates }: TransformInput,
  context: TaskContext,
): Promise<TransformResult> {
  const { logger } = context;
  const pool = context.connection('warehouse');
  const ds = activityDs(dsIn);
  const t = stagingTables(ds);
  return withClient(pool, (client) =>
    whileHeartbeating(
      inTransaction(client, async () => {
        // Two runs of the same ds (a rerun racing a retry) take turns on its staging tables.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`orders-staging:${ds}`]);
        const present = await count(client, 'SELECT count(*) AS n FROM unnest($1::text[]) AS t(name) WHERE to_regclass(name) IS NOT NULL', [
          [t.clean, t.rejected],
        ]);
        if (present !== 2) throw failTask(`staging tables ${t.clean} and ${t.rejected} are missing: run extract for ${ds} first`, 'MissingStaging');
        const good = await count(client, `SELECT count(*) AS n FROM ${t.clean}`);
        const bad = await count(client, `SELECT count(*) AS n FROM ${t.rejected} WHERE rule <> 'order_id: unique key'`);
        const dupesBefore = await count(client, `SELECT count(*) AS n FROM ${t.rejected} WHERE rule = 'order_id: unique key'`);
        const expected = stagedRows === undefined ? rowCount : stagedRows + (stagedRejects ?? 0);
        if (good + bad + dupesBefore !== rowCount || (stagedRows !== undefined && good + dupesBefore !== stagedRows) || good + bad + dupesBefore !== expected) {
          throw failTask(
            `staging for ${ds} holds ${good} rows and ${bad + dupesBefore} rejects but extract staged ${stagedRows ?? '?'} and ${stagedRejects ?? '?'} of ${rowCount} records: another run of ${ds} replaced it; run extract again`,
            'StagingChanged',
          );
        }
        let duplicates = dupesBefore;
        duplicates += await applyKeyRule(client, ds, keyCandidates);
        const cleanRows = good - (duplicates - dupesBefore);
        const rejectedRows = bad + duplicates;
        logger.info({ ds, clean: cleanRows, rejected: rejectedRows, duplicates }, 'transform: key rule applied');
        return { cleanRows, rejectedRows, cleanTable: t.clean, rejectedTable: t.rejected, duplicates };
      }),
    ),
  );
}

/**
 * Audits the staged day and publishes it: staging must hold exactly what transform counted, and
 * no more than max_rejected_ratio of the records may be rejected. Then, in the same
 * transaction, the day's table becomes the ds partition (the old one dropped) and its rejects
 * replace the day's. A refused day leaves the published one exactly as it was.
 */
export async function load(
  { ds: dsIn, rowCount, cleanRows, rejectedRows, maxRejectedRatio = DEFAULT_MAX_REJECTED_RATIO }: LoadInput,
  context: TaskContext,
): Promise<LoadResult> {
  const { logger } = context;
  const pool = context.connection('warehouse');
  const ds = activityDs(dsIn);
  const t = stagingTables(ds);
  const counts = await withClient(pool, (client) =>
    whileHeartbeating(
      inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`orders-staging:${ds}`]);
        const present = await count(client, 'SELECT count(*) AS n FROM unnest($1::text[]) AS t(name) WHERE to_regclass(name) IS NOT NULL', [
          [t.clean, t.rejected],
        ]);
        if (present !== 2) throw failTask(`nothing staged to publish for ${ds} (${t.clean} is missing): run extract and transform first`, 'MissingStaging');
        // transform's counts: baton.publish_orders_day counts staging again and refuses a day that differs.
        const good = cleanRows ?? (await count(client, `SELECT count(*) AS n FROM ${t.clean}`));
        const bad = rejectedRows ?? (await count(client, `SELECT count(*) AS n FROM ${t.rejected}`));
        const records = rowCount ?? good + bad;
        const ratio = records > 0 ? bad / records : 0;
        if (ratio > maxRejectedRatio) {
          throw failTask(
            `orders ${ds}: ${percent(ratio)} of the records rejected (${bad} of ${records}), more than max_rejected_ratio ${percent(maxRejectedRatio)}: the day is not published and the previous partition stays as it was. Most common: ${await mostCommonRejects(client, t.rejected)}. The rejects are in ${t.rejected}`,
            'TooManyRejects',
          );
        }
        const { rows } = await client
          .query<{ loaded: string; rejected: string; replaced: string }>('SELECT * FROM baton.publish_orders_day($1, $2, $3)', [ds, good, bad])
          .catch((err: Error & { code?: string }) => {
            if (err.code === '22000') throw failTask(`${err.message} (the day is staged again by a new run)`, 'StagingChanged');
            throw err;
          });
        const result = { loadedRows: Number(rows[0].loaded), rejectedRows: Number(rows[0].rejected), replacedRows: Number(rows[0].replaced) };
        logger.info({ ds, ...result }, 'load: partition published');
        return result;
      }),
    ),
  );
  context.countRows({ loaded: counts.loadedRows, rejected: counts.rejectedRows });
  return counts;
}

/**
 * Data checks on the published day. A failed check is non-retryable: retrying cannot change
 * the data. On success the day's staging tables are dropped.
 */
export async function validate({ ds: dsIn, rowCount, lines }: ValidateInput, context: TaskContext): Promise<ValidateResult> {
  const { logger } = context;
  const pool = context.connection('warehouse');
  const ds = activityDs(dsIn);
  const t = stagingTables(ds);
  return withClient(pool, async (client) => {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT o.loaded, o.loaded_lines, o.negative_amounts, o.wrong_dates, r.rejected, r.rejected_lines,
              (SELECT count(*) FROM pg_inherits WHERE inhparent = 'warehouse.orders'::regclass AND inhrelid = to_regclass($2)) AS attached
       FROM (SELECT count(*) AS loaded, coalesce(sum(source_lines), 0) AS loaded_lines,
                    count(*) FILTER (WHERE amount < 0) AS negative_amounts, count(*) FILTER (WHERE order_date <> ds) AS wrong_dates
             FROM warehouse.orders WHERE ds = $1) o,
            (SELECT count(*) AS rejected, coalesce(sum(lines), 0) AS rejected_lines FROM warehouse.orders_rejected WHERE ds = $1) r`,
      [ds, t.partition],
    );
    const r = Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
    const failures: string[] = [];
    if (lines && lines.lines !== lines.header + lines.blank + r.loaded_lines + r.rejected_lines) {
      failures.push(
        `lines in the file (${lines.lines}) != header (${lines.header}) + blank (${lines.blank}) + lines loaded (${r.loaded_lines}) + lines rejected (${r.rejected_lines})`,
      );
    }
    if (rowCount !== r.loaded + r.rejected) failures.push(`records in (${rowCount}) != loaded (${r.loaded}) + rejected (${r.rejected})`);
    if (r.loaded > 0 && r.attached !== 1) failures.push(`${t.partition} is not attached under warehouse.orders' primary key (ds, order_id)`);
    if (r.negative_amounts > 0) failures.push(`amount < 0 in ${r.negative_amounts} rows`);
    if (r.wrong_dates > 0) failures.push(`order_date <> ${ds} in ${r.wrong_dates} rows`);
    if (failures.length) {
      throw failTask(`validation of orders ${ds} failed ${failures.length} of 5 checks: ${failures.join('; ')}`, 'ValidationFailed');
    }
    await client.query(`DROP TABLE IF EXISTS ${t.clean}, ${t.rejected}, ${t.keys}, ${t.raw}, ${t.legacyClean}`);
    logger.info({ ds, loaded: r.loaded, rejected: r.rejected, lines: lines?.lines }, 'validate: 5 checks passed');
    return { checksPassed: 5 };
  });
}

/** dbt's selector characters: tags, paths, graph operators. */
const SELECTOR = /^[A-Za-z0-9_:+.,*@ -]+$/;

/** `dbt run --select <select> --vars {ds: ...}` in this DAG's dbt project, on the worker's target. */
export async function dbtRun({ ds, select }: { ds: string; select: string }, context: TaskContext): Promise<{ models: DbtModelResult[] }> {
  activityDs(ds);
  if (!SELECTOR.test(select)) throw failTask(`dbt selector ${JSON.stringify(select)} has characters dbt does not use`, 'InvalidSelector');
  const outcome = await context.dbt(['run', '--select', select, '--vars', JSON.stringify({ ds })], { project: 'dbt' });
  const models = outcome.nodes;
  const failed = models.filter((m) => m.status !== 'success');
  if (outcome.exitCode !== 0 || failed.length) {
    const message = `dbt run --select ${select} --target ${outcome.target} exited ${outcome.exitCode}: ${outcome.failure}`;
    // A broken model or SQL error will fail the same way again; anything else may be transient.
    if (failed.length) throw failTask(message, 'DbtModelFailed');
    throw new Error(message);
  }
  context.logger.info({ ds, models: models.map((m) => `${m.model}:${m.status}`) }, 'dbt run finished');
  return { models };
}
