/**
 * What every benchmark scenario shares: its own worker process per scenario, CPU read from
 * /proc, figures as median and spread over repeats, and one table row per figure, each with
 * its floor and ratio when it has one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { COMPILED_NODE_FLAGS } from '../src/build';
import type { Config } from '../src/config';

export interface BenchContext {
  client: Client;
  config: Config;
  /** Environment of the bench workers (database, namespace, data directory). */
  env: NodeJS.ProcessEnv;
  /** bench/worker.ts compiled (src/build.ts). */
  workerEntry: string;
  /** The pre-built workflow bundle (bench/workflows.ts). */
  bundlePath: string;
  quick: boolean;
  say: (line: string) => void;
}

/** One line of the results table. */
export interface Figure {
  scenario: string;
  measure: string;
  value: number;
  unit: string;
  /** Spread over repeats, as [min, max], when there were several. */
  spread?: [number, number];
  floor?: { label: string; value: number };
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface BenchWorker {
  pid: number;
  /** User + system CPU seconds the worker has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

let clockTicks: number | undefined;
async function ticksPerSecond(): Promise<number> {
  if (clockTicks === undefined) {
    const out = await new Promise<string>((resolve) => {
      const child = spawn('getconf', ['CLK_TCK']);
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('close', () => resolve(text));
      child.on('error', () => resolve('100'));
    });
    clockTicks = Number(out.trim()) || 100;
  }
  return clockTicks;
}

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, after the command name). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / (await ticksPerSecond());
}

/** Resident set size of a process in MB, from /proc/<pid>/status. */
export async function processRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Starts bench/worker.ts on its own task queue and waits until it polls. */
export async function startBenchWorker(ctx: BenchContext, taskQueue: string, activitySlots: number): Promise<BenchWorker> {
  const child: ChildProcess = spawn(process.execPath, [...COMPILED_NODE_FLAGS, ctx.workerEntry, taskQueue, String(activitySlots), ctx.bundlePath], {
    env: { ...ctx.env, BATON_METRICS_PORT: 'off', LOG_LEVEL: 'error' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench worker did not start in 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('bench worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench worker exited with ${code}:\n${output}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    cpuSeconds: () => processCpuSeconds(pid),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function spread(values: number[]): [number, number] | undefined {
  return values.length > 1 ? [Math.min(...values), Math.max(...values)] : undefined;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
