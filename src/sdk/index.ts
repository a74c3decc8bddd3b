/**
 * The Baton DAG SDK: what a DAG file under workflows/dags/ imports.
 *
 *   import { dag, command, http, sql } from '../../src/sdk';
 *   export default dag({ dagId: 'my_dag', schedule: '@daily', startDate: '2024-01-01', tasks: { ... } });
 */
export * from './operators';
export { TRIGGER_RULES } from './types';
export type * from './types';
export { compileDag, InvalidDagFile, type CompiledDag, type CompiledTask } from './compile';
export { z } from 'zod';
