/** The `empty` operator's step: nothing to do, an empty output. */
import type { OperatorStep } from '../steps';

export const emptyStep: OperatorStep<'empty'> = () => ({});
