/** The `dbt` operator's step: its selectors and vars rendered, the worker's dbt target by default, then its activity. */
import { render, renderDeep } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const dbtStep: OperatorStep<'dbt'> = (definition, { base, ctx, run, activities }) =>
  activities.operatorDbt({
    ...base,
    command: definition.command,
    ...(definition.select ? { select: render(definition.select, ctx) } : {}),
    ...(definition.exclude ? { exclude: render(definition.exclude, ctx) } : {}),
    vars: (renderDeep(definition.vars ?? {}, ctx) ?? {}) as Record<string, unknown>,
    target: definition.target ?? run.settings.dbtTarget,
    ...(definition.project ? { project: definition.project } : {}),
  });
