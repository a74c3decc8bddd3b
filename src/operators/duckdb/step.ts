/** The `duckdb` operator's step: its query's placeholders filled with values that cannot end a literal, its output path rendered, then its activity. */
import { render, renderSqlText } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const duckdbStep: OperatorStep<'duckdb'> = (definition, { base, ctx, activities }) =>
  activities.operatorDuckdb({ ...base, sql: renderSqlText(definition.sql, ctx), output: render(definition.output, ctx) });
