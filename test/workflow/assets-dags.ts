/**
 * DAG files for the assets' workflow tests: a producer whose two tasks update orders and
 * customers, a DAG scheduled on both, one on either of two other assets, and one the
 * continue-as-new test feeds. Pure (baton/sdk only): the test compiles them without loading the
 * engine, and assets-probe.ts registers them in the bundle.
 */
import { command, dag, z } from '../../src/sdk';

const base = { startDate: '2024-01-01', maxActiveRuns: null } as const;

/** orders, then customers; conf `fail: customers` fails the second task. */
export const producer = dag(
  { ...base, dagId: 'assets_producer', schedule: '@daily', params: z.object({ fail: z.enum(['none', 'customers']).default('none') }) },
  ({ ds, params }) => {
    const orders = command('load_orders', { argv: ['orders', `${ds}`], outlets: ['orders'] });
    command('load_customers', { upstream: [orders], argv: ['customers', `${params.fail}`], outlets: ['customers'] });
  },
);

/** Airflow's `schedule=(orders & customers)`. */
export const consumer = dag({ ...base, dagId: 'assets_consumer', schedule: { assets: 'orders & customers' } }, ({ ds }) => {
  command('report', { argv: ['report', `${ds}`] });
});

/** Either asset starts it. */
export const either = dag({ ...base, dagId: 'assets_either', schedule: { assets: { any: ['refunds', 'returns'] } } }, ({ ds }) => {
  command('report', { argv: ['report', `${ds}`] });
});

/** Fed by the continue-as-new test, whose watcher continues as new every two updates. */
export const ledger = dag({ ...base, dagId: 'assets_ledger', schedule: { assets: { all: ['ledger', 'fx'] } } }, ({ ds }) => {
  command('report', { argv: ['report', `${ds}`] });
});

export const ASSET_DAGS = [producer, consumer, either, ledger];
