/** The `loadCsv` operator's step: its file's name rendered, its defaults filled in, then its activity. */
import { render } from '../../sdk/templates';
import type { OperatorStep } from '../steps';

export const loadCsvStep: OperatorStep<'loadCsv'> = (definition, { base, ctx, activities }) =>
  activities.operatorLoadCsv({
    ...base,
    file: render(definition.file, ctx),
    contract: definition.contract,
    table: definition.table,
    mode: definition.mode ?? 'replace',
    ...(definition.maxRejectedRatio !== undefined ? { maxRejectedRatio: definition.maxRejectedRatio } : {}),
    ...(definition.allowEmpty ? { allowEmpty: true } : {}),
  });
