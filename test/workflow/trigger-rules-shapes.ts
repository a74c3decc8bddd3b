/** The outcomes the trigger-rule shapes pair, shared by the probe DAG and its test (which must not load the probe: it pulls in the engine). */
export const OUTCOMES = ['success', 'failed', 'skipped', 'upstream_failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Every unordered pair of outcomes, each once (itertools.combinations_with_replacement). */
export const PAIRS = OUTCOMES.flatMap((a, i) => OUTCOMES.slice(i).map((b) => [a, b] as const));
