/** The `http` operator's step: its path and JSON body rendered, Airflow's defaults filled in (GET, or POST with a body), then its activity. */
import { render, renderDeep } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const httpStep: OperatorStep<'http'> = (definition, { base, ctx, activities }) =>
  activities.operatorHttp({
    ...base,
    conn: definition.conn,
    method: definition.method ?? (definition.json === undefined ? 'GET' : 'POST'),
    path: render(definition.path, ctx),
    ...(definition.json !== undefined ? { json: renderDeep(definition.json, ctx) } : {}),
    expectStatus:
      definition.expectStatus === undefined ? [] : typeof definition.expectStatus === 'number' ? [definition.expectStatus] : [...definition.expectStatus],
  });
