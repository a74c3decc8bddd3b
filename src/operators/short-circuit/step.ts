/** The `shortCircuit` operator's step: its condition, asked in the workflow; the engine skips what follows when it is false. */
import type { OperatorStep } from '../steps';

export const shortCircuitStep: OperatorStep<'shortCircuit'> = (definition, { ctx }) => ({ condition: definition.condition(ctx) === true });
