/**
 * Two files, each under a contract of its own, loaded side by side into the warehouse, then
 * `dbt build` on this DAG's own dbt project (dbt/ beside this file): its model and the tests on
 * the model and on the loaded tables. A Parquet copy of the day's payments is written by DuckDB.
 *
 *   raw/customers_<ds>.csv  customer_id,name,country
 *   raw/payments_<ds>.csv   payment_id,customer_id,paid_on,amount
 *
 *   baton dags test customers_example --ds 2024-05-06
 */
import { dag, dbt, duckdb, loadCsv, result } from 'baton/sdk';

export default dag(
  {
    dagId: 'customers_example',
    description: 'Customers and their payments: two CSV files under contracts, then dbt build',
    schedule: '0 5 * * *',
    startDate: '2024-01-01',
    tags: ['example', 'dbt'],
    pausedOnCreation: true,
    defaultArgs: { owner: 'data-team', retries: 1, retryDelay: '30s' },
  },
  ({ ds }) => {
    const customers = loadCsv('load_customers', {
      file: `raw/customers_${ds}.csv`,
      table: 'examples.customers',
      // A small reference file: one repeated id in four is still a file worth loading.
      maxRejectedRatio: 0.25,
      contract: {
        header: 'exact',
        columns: [
          { name: 'customer_id', type: 'text', maxLength: 32 },
          { name: 'name', type: 'text', maxLength: 200 },
          { name: 'country', type: 'text', maxLength: 2 },
        ],
        key: { columns: ['customer_id'], keep: 'last' },
      },
    });
    const payments = loadCsv('load_payments', {
      file: `raw/payments_${ds}.csv`,
      table: 'examples.payments',
      mode: 'partition',
      maxRejectedRatio: 0.2,
      contract: {
        header: 'by-name',
        columns: [
          { name: 'payment_id', type: 'text', maxLength: 32 },
          { name: 'customer_id', type: 'text', maxLength: 32 },
          { name: 'paid_on', type: 'date', rules: ['= ds'] },
          { name: 'amount', type: 'decimal(12,2)', rules: ['> 0'] },
        ],
        key: { columns: ['payment_id'], keep: 'first' },
      },
    });
    duckdb('payments_parquet', {
      upstream: [payments],
      sql: `SELECT * FROM read_csv('raw/payments_${ds}.csv', header = true, all_varchar = true) ORDER BY payment_id`,
      output: `processed/payments_${ds}.parquet`,
    });
    const build = dbt('build', { upstream: [customers, payments], command: 'build', project: 'dbt', select: 'customers_example' });
    return result({ customers, payments, build }, ({ customers, payments, build }) => ({
      customers: customers.rows,
      payments: payments.rows,
      rejected: payments.rejected + customers.rejected,
      nodes: build.nodes,
    }));
  },
);
