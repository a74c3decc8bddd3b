/** The `task` operator's step: the DAG's own function, registered on the worker as `<dag id>.<name>`, given its args. */
import { userActivityType } from '../../sdk/compile';
import { renderDeep } from '../../sdk/templates';
import type { RunContext } from '../../sdk/types';
import type { OperatorStep } from '../steps';
import type { UserTask } from './definition';

export const taskStep: OperatorStep<'task'> = (definition, { dag, base, ctx, activities }) => {
  const activity = (activities as unknown as Record<string, (input: unknown) => Promise<unknown>>)[userActivityType(dag.dagId, definition.activity)];
  return activity({ ...base, args: userTaskArgs(definition, ctx) });
};

/** A user task's argument: its function's value, or its data with the templates rendered. */
export function userTaskArgs(definition: UserTask, ctx: RunContext): unknown {
  return typeof definition.args === 'function' ? (definition.args as (run: RunContext) => unknown)(ctx) : renderDeep(definition.args ?? null, ctx);
}
