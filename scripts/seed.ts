/** `npm run seed -- --ds 2024-01-15 --rows 10000 --bad-rate 0.01`: writes a generated orders file. */
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadServiceSettings } from '../src/config';
import { parseDs } from '../src/logical-date';
import { generateOrders } from './sample-orders';

const number = (label: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${label} must be a number, got ${JSON.stringify(value)}`);
  return n;
};
const date = (value: string) => {
  try {
    return parseDs(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const program = new Command('seed')
  .exitOverride()
  .description('Generate a deterministic orders CSV with a known number of bad rows')
  .requiredOption('--ds <date>', 'logical date, YYYY-MM-DD', date)
  .option('--rows <n>', 'data rows', number('--rows'), 10_000)
  .option('--bad-rate <fraction>', 'fraction of bad rows, 0..1', number('--bad-rate'), 0.01)
  .option('--seed <n>', 'random seed', number('--seed'), 42)
  .option('--out <file>', 'output file (default <data dir>/raw/orders_<ds>.csv)')
  .action(async (opts: { ds: string; rows: number; badRate: number; seed: number; out?: string }) => {
    const file = opts.out ?? path.join(loadServiceSettings().dataDir, 'raw', `orders_${opts.ds}.csv`);
    const summary = await generateOrders({ ds: opts.ds, rows: opts.rows, badRate: opts.badRate, seed: opts.seed, file });
    console.log(JSON.stringify(summary, null, 2));
  });

program.parseAsync().catch((err: Error) => {
  // commander has already printed its usage error; bad arguments exit 2, failures 1.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  console.error(`seed: ${err.message}`);
  process.exit(1);
});
