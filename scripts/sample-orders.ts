/**
 * A deterministic orders CSV generator: any size, an exact number of bad rows of known kinds,
 * and the totals the pipeline must end with, so tests and benchmarks assert exact outcomes.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { addDays, dsNodash, parseDs } from '../src/logical-date';

export const BAD_ROW_KINDS = [
  'missing_order_id',
  'amount_not_a_number',
  'negative_amount',
  'wrong_order_date',
  'duplicate_order_id',
  'missing_column',
  'impossible_date',
] as const;
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

export interface SeedOptions {
  ds: string;
  rows: number;
  /** Fraction of rows that are bad, 0..1; the exact count is round(rows * badRate). */
  badRate: number;
  seed?: number;
  /** Output file; by default `<dataDir>/raw/orders_<ds>.csv`. */
  file: string;
  /** Ids as order systems write them: `ORD-<n>` and `C-<n>` instead of bare numbers. */
  alphanumericIds?: boolean;
}

export interface SeedSummary {
  file: string;
  ds: string;
  rows: number;
  badRows: number;
  byKind: Record<BadRowKind, number>;
  /** The sum of the order_ids (of the number in each, for `ORD-<n>`) that land in warehouse.orders, as a decimal string (a checksum). */
  expectedOrderIdSum: string;
  /** Rows that land in warehouse.orders. */
  expectedLoaded: number;
  /** Rows that land in warehouse.orders_rejected. */
  expectedRejected: number;
  /** Sum of the loaded amounts, as a decimal string with 2 places (daily_revenue.revenue). */
  expectedRevenue: string;
}

const STATUSES = ['pending', 'shipped', 'delivered', 'cancelled'];

/** mulberry32: small, fast and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;

export function validateSeedOptions(o: SeedOptions): void {
  parseDs(o.ds);
  if (!Number.isInteger(o.rows) || o.rows < 0 || o.rows > 100_000_000) throw new Error(`--rows must be a whole number from 0 to 100000000, got ${o.rows}`);
  if (!(o.badRate >= 0 && o.badRate <= 1)) throw new Error(`--bad-rate must be between 0 and 1, got ${o.badRate}`);
}

/** Writes the file (beside, then renamed into place) and returns what the pipeline must produce from it. */
export async function generateOrders(options: SeedOptions): Promise<SeedSummary> {
  validateSeedOptions(options);
  const { ds, rows, badRate, file } = options;
  const random = prng(options.seed ?? 42);
  const badTotal = Math.round(rows * badRate);
  const byKind = Object.fromEntries(BAD_ROW_KINDS.map((k) => [k, 0])) as Record<BadRowKind, number>;
  const idBase = Number(dsNodash(ds)) * 10_000_000;
  const nextDay = addDays(ds, 1);

  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  let buffer = 'order_id,customer_id,order_date,amount,status\n';
  let badLeft = badTotal;
  let loaded = 0;
  let revenueCents = 0;
  let idSum = 0n;
  let lastGoodId: number | undefined;
  let badIndex = 0;

  const orderId = (n: number) => (options.alphanumericIds ? `ORD-${n}` : String(n));
  for (let i = 0; i < rows; i++) {
    const id = idBase + i + 1;
    const customerNumber = 1 + Math.floor(random() * 5000);
    const customer = options.alphanumericIds ? `C-${customerNumber}` : String(customerNumber);
    const cents = 100 + Math.floor(random() * 49_900);
    const status = STATUSES[Math.floor(random() * STATUSES.length)];
    // Selection sampling: exactly badTotal rows are bad, spread evenly at random.
    const bad = badLeft > 0 && random() * (rows - i) < badLeft;
    if (!bad) {
      buffer += `${orderId(id)},${customer},${ds},${money(cents)},${status}\n`;
      loaded++;
      revenueCents += cents;
      idSum += BigInt(id);
      lastGoodId = id;
    } else {
      badLeft--;
      let kind = BAD_ROW_KINDS[badIndex++ % BAD_ROW_KINDS.length];
      if (kind === 'duplicate_order_id' && lastGoodId === undefined) kind = 'missing_order_id';
      byKind[kind]++;
      switch (kind) {
        case 'missing_order_id':
          buffer += `,${customer},${ds},${money(cents)},${status}\n`;
          break;
        case 'amount_not_a_number':
          buffer += `${orderId(id)},${customer},${ds},twelve,${status}\n`;
          break;
        case 'negative_amount':
          buffer += `${orderId(id)},${customer},${ds},${money(-cents)},${status}\n`;
          break;
        case 'wrong_order_date':
          buffer += `${orderId(id)},${customer},${nextDay},${money(cents)},${status}\n`;
          break;
        case 'duplicate_order_id':
          buffer += `${orderId(lastGoodId!)},${customer},${ds},${money(cents)},${status}\n`;
          break;
        case 'missing_column':
          buffer += `${orderId(id)},${customer},${ds},${money(cents)}\n`;
          break;
        case 'impossible_date':
          buffer += `${orderId(id)},${customer},${ds.slice(0, 5)}02-30,${money(cents)},${status}\n`;
          break;
      }
    }
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  await rename(partial, file);
  return {
    file,
    ds,
    rows,
    badRows: badTotal,
    byKind,
    expectedLoaded: loaded,
    expectedRejected: badTotal,
    expectedRevenue: money(revenueCents),
    expectedOrderIdSum: idSum.toString(),
  };
}

// ---- The source database -------------------------------------------------------------------

/** The source system's table that `{ source: "db" }` runs read (created by the demo seed, not by the worker). */
export const SOURCE_ORDERS_DDL = `
  CREATE SCHEMA IF NOT EXISTS source;
  CREATE TABLE IF NOT EXISTS source.orders (
    "date"       date NOT NULL,
    order_id     bigint,
    customer_id  bigint,
    amount       numeric(12,2),
    status       text
  );
  CREATE INDEX IF NOT EXISTS orders_date_idx ON source.orders ("date");`;

export const SOURCE_BAD_ROW_KINDS = ['missing_order_id', 'negative_amount', 'duplicate_order_id', 'missing_status'] as const;

export interface SourceSeedSummary {
  ds: string;
  rows: number;
  badRows: number;
  expectedLoaded: number;
  expectedRejected: number;
}

/**
 * Replaces the rows of one date in source.orders with `rows` generated rows, every k-th of
 * them bad (a kind a typed table can hold: a null order_id or status, a negative amount, a
 * duplicated order_id), the same on every run. Generated in SQL, where the rows live.
 */
export async function seedSourceOrders(db: Queryable, options: { ds: string; rows: number; badRate: number }): Promise<SourceSeedSummary> {
  const ds = parseDs(options.ds);
  if (!Number.isInteger(options.rows) || options.rows < 0 || options.rows > 100_000_000)
    throw new Error(`rows must be a whole number from 0 to 100000000, got ${options.rows}`);
  if (!(options.badRate >= 0 && options.badRate <= 0.5)) throw new Error(`bad rate must be between 0 and 0.5, got ${options.badRate}`);
  const every = options.badRate > 0 ? Math.floor(1 / options.badRate) : 0;
  await db.query(SOURCE_ORDERS_DDL);
  await db.query('DELETE FROM source.orders WHERE "date" = $1', [ds]);
  await db.query(
    `INSERT INTO source.orders ("date", order_id, customer_id, amount, status)
     SELECT $1::date,
            CASE kind WHEN 0 THEN NULL WHEN 2 THEN $4::bigint + i - 1 ELSE $4::bigint + i END,
            1 + (i * 7919) % 5000,
            CASE kind WHEN 1 THEN -1 ELSE 1 END * (1 + ((i * 37) % 49900) / 100.0),
            CASE kind WHEN 3 THEN NULL ELSE (ARRAY['pending', 'shipped', 'delivered', 'cancelled'])[1 + i % 4] END
     FROM (SELECT i, CASE WHEN i % NULLIF($3::integer, 0) = 0 THEN (i / $3::integer) % 4 END AS kind FROM generate_series(1, $2::integer) AS i) AS g`,
    [ds, options.rows, every, Number(dsNodash(ds)) * 10_000_000],
  );
  const badRows = every > 0 ? Math.floor(options.rows / every) : 0;
  return { ds, rows: options.rows, badRows, expectedLoaded: options.rows - badRows, expectedRejected: badRows };
}

/** What seedSourceOrders needs of a pg Pool or Client. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}
