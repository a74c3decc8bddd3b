/** The `command` operator's step: its argv and environment rendered, then its activity. */
import { render } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const commandStep: OperatorStep<'command'> = (definition, { base, ctx, activities }) =>
  activities.operatorCommand({
    ...base,
    argv: definition.argv.map((a) => render(a, ctx)),
    env: Object.fromEntries(Object.entries(definition.env ?? {}).map(([k, v]) => [k, render(v, ctx)])),
    ...(definition.cwd ? { cwd: definition.cwd } : {}),
  });
