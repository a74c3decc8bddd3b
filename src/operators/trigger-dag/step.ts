/** The `triggerDag` operator's step: the date (this run's by default) and the conf rendered, then its activity. */
import { render, renderDeep } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const triggerDagStep: OperatorStep<'triggerDag'> = (definition, { base, ctx, activities }) =>
  activities.operatorTriggerDag({
    ...base,
    dag: definition.dag,
    runDs: render(definition.ds ?? '{{ ds }}', ctx),
    conf: renderDeep(definition.conf ?? {}, ctx) as Record<string, unknown>,
    wait: definition.wait ?? false,
  });
