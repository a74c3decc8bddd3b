/**
 * The `loadCsv` operator's settings, output and templates, and its builder: a CSV file under a
 * column contract into a table, write-audit-publish. Pure.
 */
import { z } from 'zod';
import { validateContract, type ColumnContract } from '../../column-contract';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, relativePath } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface LoadCsvTask extends TaskBase {
  operator: 'loadCsv';
  /** The file under the data directory (templated): `raw/customers_{{ ds }}.csv`. */
  file: string;
  contract: ColumnContract;
  /** The target table, `schema.table`; created from the contract when missing. */
  table: string;
  /** `replace` (the default): the table's rows become the file's; `partition`: only the run's ds. */
  mode?: 'replace' | 'partition';
  /** The share of records that may be rejected before the load is refused; 0.05 by default. */
  maxRejectedRatio?: number;
  /** A file with a header and no records fails the task (the table is left as it was) unless this is true. */
  allowEmpty?: boolean;
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

export const loadCsvDefinition: OperatorDefinition<LoadCsvTask, LoadCsvOutput> = {
  operator: 'loadCsv',
  settings: z
    .object({
      ...common,
      file: relativePath,
      contract: z.custom((c) => {
        try {
          validateContract(c as never);
          return true;
        } catch {
          return false;
        }
      }, 'a valid column contract (src/column-contract.ts)'),
      table: z.string().regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'schema.table, lower-case'),
      mode: z.enum(['replace', 'partition']).optional(),
      maxRejectedRatio: z.number().min(0).max(1).optional(),
      allowEmpty: z.boolean().optional(),
    })
    .strict(),
  outputFields: ['table', 'rows', 'rejected', 'records', 'duplicates', 'replaced', 'lines', 'bytes'],
  templates: (task) => [task.file],
};

/** A CSV file under a column contract into a table: write, audit, publish. */
export const loadCsv = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<LoadCsvTask, I, LoadCsvOutput>) =>
  declare('loadCsv', taskId, settings) as TaskOf<LoadCsvOutput>;
