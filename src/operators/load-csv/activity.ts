/**
 * The `loadCsv` operator's activity: a CSV file of the data directory, read under the DAG's
 * column contract, into a table (`replace`) or one logical date of it (`partition`),
 * write-audit-publish: the records are staged with their rejects (each with its line and rule),
 * the key rule moves repeated keys to the rejects, the audit refuses a file with too many
 * rejects, and only then, in one transaction, the table's rows (or the day's) become the file's.
 * A refused or failed load leaves the table exactly as it was. Every line is accounted for, or
 * the load fails saying so.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, isStatementError, withClient } from '../../data/connections';
import { mostCommonRejects, percent, stageCsv } from '../../data/csv-load';
import { openDataFile } from '../../data/data-dir';
import { whileHeartbeating } from '../../data/heartbeat';
import { parseColumnType, validateContract, type ColumnContract } from '../../column-contract';
import { parseDs } from '../../logical-date';
import type { OperatorInput } from '../common';
import type { LoadCsvOutput } from './definition';

export interface LoadCsvOperatorInput extends OperatorInput {
  /** Under the data directory, rendered. */
  file: string;
  contract: ColumnContract;
  table: string;
  mode: 'replace' | 'partition';
  maxRejectedRatio?: number;
  allowEmpty?: boolean;
}

const TABLE = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$/;
const DEFAULT_MAX_REJECTED_RATIO = 0.05;

/** A contract column's Postgres type. */
export function postgresType(type: string): string {
  const t = parseColumnType(type);
  switch (t.kind) {
    case 'integer':
      return 'bigint';
    case 'decimal':
      return `numeric(${t.precision},${t.scale})`;
    default:
      return t.kind;
  }
}

/** The target's names, checked: identifiers of lower-case letters, digits and _, short enough for Postgres. */
export function loadTables(table: string) {
  const m = TABLE.exec(table);
  if (!m || m[1].length > 63 || m[2].length > 63 - '_rejected'.length)
    throw ApplicationFailure.nonRetryable(
      `loadCsv: table ${JSON.stringify(table)} is not schema.table (lower case, the table at most 54 characters)`,
      'InvalidTable',
    );
  // Each try stages into tables of its own: a load of the same table and day beside it never reads them.
  const stage = `staging.load_${randomUUID().replace(/-/g, '')}`;
  return { schema: m[1], target: table, rejects: `${table}_rejected`, stage, stageRejects: `${stage}_rejected`, stageKeys: `${stage}_keys` };
}

export function createLoadCsvOperator(pool: Pool, dataDir: string) {
  return async function operatorLoadCsv(input: LoadCsvOperatorInput): Promise<LoadCsvOutput> {
    const ds = parseDs(input.ds);
    const contract: ColumnContract = input.contract;
    try {
      validateContract(contract);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`${input.taskId}: ${(err as Error).message}`, 'InvalidContract');
    }
    const t = loadTables(input.table);
    const columns = contract.columns.map((c) => c.name);
    const partition = input.mode === 'partition';
    const maxRejectedRatio = input.maxRejectedRatio ?? DEFAULT_MAX_REJECTED_RATIO;

    const opened = await openDataFile(dataDir, input.file, (file) => `${input.taskId}: input file not found: ${file}`);
    try {
      const staged = await whileHeartbeating(
        stageCsv({
          pool,
          source: opened,
          name: opened.file,
          contract,
          ds,
          goodTable: {
            name: t.stage,
            create: async (client) => {
              await ensureSchema(client, 'staging');
              await client.query(`DROP TABLE IF EXISTS ${t.stage}`);
              const defs = contract.columns.map((c) => `${c.name} ${postgresType(c.type)}`);
              await client.query(`CREATE TABLE ${t.stage} (${defs.join(', ')}, source_line integer NOT NULL, source_lines integer NOT NULL)`);
            },
          },
          rejectsTable: t.stageRejects,
          keyCandidates: contract.key ? t.stageKeys : undefined,
        }),
        () => ({ bytes: opened.bytesRead(), of: opened.info.size }),
      );
      await opened.checkUnchanged();
      // A truncated export (its header alone) must not empty the table with a green run.
      if (staged.records === 0 && !input.allowEmpty) {
        throw ApplicationFailure.nonRetryable(
          `${input.taskId}: ${opened.file} has a header and no records: ${t.target} is left as it was (allowEmpty: true loads an empty file)`,
          'EmptyFile',
        );
      }

      return await withClient(pool, (client) =>
        whileHeartbeating(
          inTransaction(client, async () => {
            // Two loads of one table and day take turns; a load of another day goes on beside.
            await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`baton:loadCsv:${t.target}:${partition ? ds : ''}`]);
            const duplicates = contract.key ? await applyKey(client, t, contract.key, columns, staged.keyCandidates !== undefined) : 0;
            const loaded = staged.loaded - duplicates;
            const rejected = staged.rejected + duplicates;
            const records = loaded + rejected;
            const ratio = records > 0 ? rejected / records : 0;
            if (ratio > maxRejectedRatio) {
              throw ApplicationFailure.nonRetryable(
                `${input.taskId}: ${opened.file}: ${percent(ratio)} of the records rejected (${rejected} of ${records}), more than maxRejectedRatio ${percent(maxRejectedRatio)}: ${t.target} is left as it was. Most common: ${await mostCommonRejects(client, t.stageRejects)}`,
                'TooManyRejects',
              );
            }
            const replaced = await publish(client, t, contract, partition, ds);
            const inTable = Number(
              (await client.query(`SELECT count(*) AS n FROM ${t.target}${partition ? ' WHERE ds = $1' : ''}`, partition ? [ds] : [])).rows[0].n,
            );
            const inRejects = Number(
              (await client.query(`SELECT count(*) AS n FROM ${t.rejects}${partition ? ' WHERE ds = $1' : ''}`, partition ? [ds] : [])).rows[0].n,
            );
            if (inTable !== loaded || inRejects !== rejected) {
              throw ApplicationFailure.nonRetryable(
                `${input.taskId}: ${t.target} would hold ${inTable} rows and ${inRejects} rejects, but ${loaded} and ${rejected} were staged: nothing published`,
                'CountMismatch',
              );
            }
            return {
              table: t.target,
              rows: loaded,
              rejected,
              records,
              duplicates,
              replaced,
              lines: staged.account.lines,
              bytes: staged.bytes,
            };
          }),
        ),
      );
    } catch (err) {
      if (isStatementError(err)) throw ApplicationFailure.nonRetryable(`${input.taskId}: loading ${t.target}: ${(err as Error).message}`, 'LoadFailed');
      throw err;
    } finally {
      await opened.handle.close();
      await pool.query(`DROP TABLE IF EXISTS ${t.stage}, ${t.stageRejects}, ${t.stageKeys}`).catch(() => undefined);
    }
  };
}

/**
 * Creates the schema when it is missing. A worker on a least-privilege role may create tables
 * in a schema it owns but not schemas (activities/sql/worker-role.sql gives it `examples`), so
 * an existing schema is left alone and a missing one it may not make is named.
 */
async function ensureSchema(client: PoolClient, schema: string): Promise<void> {
  const { rows } = await client.query<{ present: boolean }>('SELECT to_regnamespace($1) IS NOT NULL AS present', [schema]);
  if (rows[0].present) return;
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    if ((err as { code?: string }).code === '42501')
      throw ApplicationFailure.nonRetryable(
        `schema ${schema} does not exist and this worker's database role may not create it: create it and let the role create tables in it`,
        'SchemaMissing',
      );
    throw err;
  }
}

/**
 * The key rule: of the records of one key the first (or last) by line stays, the others become
 * rejects. With the keys stageCsv saw more than once (`candidates`: every repeated key is among
 * them), only their records are ranked; otherwise every record is.
 */
async function applyKey(
  client: PoolClient,
  t: ReturnType<typeof loadTables>,
  key: NonNullable<ColumnContract['key']>,
  columns: string[],
  candidates: boolean,
): Promise<number> {
  const keys = key.columns.join(', ');
  const order = key.keep === 'last' ? 'DESC' : 'ASC';
  if (candidates) await client.query(`ANALYZE ${t.stageKeys}`);
  const moved = await client.query(
    `WITH ranked AS (
       SELECT ctid AS row_id, source_line, source_lines, concat_ws(',', ${columns.join(', ')}) AS raw,
              first_value(source_line) OVER (PARTITION BY ${keys} ORDER BY source_line ${order}) AS kept_line
       FROM ${t.stage}${candidates ? ` WHERE (${keys}) IN (SELECT ${keys} FROM ${t.stageKeys})` : ''}
     ), doomed AS (
       SELECT * FROM ranked WHERE source_line <> kept_line
     ), gone AS (
       DELETE FROM ${t.stage} s WHERE s.ctid = ANY (ARRAY(SELECT row_id FROM doomed)) RETURNING s.ctid
     )
     INSERT INTO ${t.stageRejects} (line, lines, rule, reason, raw)
     SELECT d.source_line, d.source_lines, $1, format('duplicate %s (kept line %s)', $2::text, d.kept_line), left(d.raw, 1000)
     FROM doomed d JOIN gone g ON g.ctid = d.row_id`,
    [`${keys}: unique key`, keys],
  );
  return moved.rowCount ?? 0;
}

/** The table's rows (or the day's) and their rejects become the staged ones; returns how many rows were replaced. */
async function publish(client: PoolClient, t: ReturnType<typeof loadTables>, contract: ColumnContract, partition: boolean, ds: string): Promise<number> {
  const columns = contract.columns.map((c) => c.name).join(', ');
  const defs = contract.columns.map((c) => `${c.name} ${postgresType(c.type)}`).join(', ');
  await ensureSchema(client, t.schema);
  await client.query(`CREATE TABLE IF NOT EXISTS ${t.target} (${partition ? 'ds date NOT NULL, ' : ''}${defs})`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${t.rejects} (${partition ? 'ds date NOT NULL, ' : ''}line integer NOT NULL, lines integer NOT NULL, rule text NOT NULL, reason text NOT NULL, raw text NOT NULL)`,
  );
  if (partition) {
    const gone = await client.query(`DELETE FROM ${t.target} WHERE ds = $1`, [ds]);
    await client.query(`DELETE FROM ${t.rejects} WHERE ds = $1`, [ds]);
    await client.query(`INSERT INTO ${t.target} (ds, ${columns}) SELECT $1::date, ${columns} FROM ${t.stage} ORDER BY source_line`, [ds]);
    await client.query(
      `INSERT INTO ${t.rejects} (ds, line, lines, rule, reason, raw) SELECT $1::date, line, lines, rule, reason, raw FROM ${t.stageRejects} ORDER BY line`,
      [ds],
    );
    return gone.rowCount ?? 0;
  }
  const before = Number((await client.query(`SELECT count(*) AS n FROM ${t.target}`)).rows[0].n);
  await client.query(`TRUNCATE ${t.target}, ${t.rejects}`);
  await client.query(`INSERT INTO ${t.target} (${columns}) SELECT ${columns} FROM ${t.stage} ORDER BY source_line`);
  await client.query(`INSERT INTO ${t.rejects} (line, lines, rule, reason, raw) SELECT line, lines, rule, reason, raw FROM ${t.stageRejects} ORDER BY line`);
  return before;
}
