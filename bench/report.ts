/** The results: one table on the terminal, and bench/results/<date>.json with the machine's facts. */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { projectRoot } from '../src/config';
import type { Figure } from './harness';

const run = promisify(execFile);

const fmt = (n: number | undefined, unit = '') => {
  if (n === undefined || Number.isNaN(n)) return '';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return `${n.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.measure,
    fmt(f.value, f.unit),
    f.spread ? `${fmt(f.spread[0])}–${fmt(f.spread[1])}` : '',
    f.floor ? `${fmt(f.floor.value, f.unit)} (${f.floor.label})` : '',
    f.ratio === undefined ? '' : `${fmt(f.ratio)}x`,
    f.target ? `${f.target} ${f.met ? 'met' : 'MISSED'}` : '',
    f.note ?? '',
  ]);
  const head = ['scenario', 'measure', 'value', 'spread', 'floor', 'ratio', 'target', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export async function machineFacts(pool: Pool, venv: string) {
  const version = async (cmd: string, args: string[]) => (await run(cmd, args).catch(() => ({ stdout: 'not found' }))).stdout.trim().split('\n')[0];
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const { rows } = await pool.query<{ version: string }>('SELECT version()');
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    temporalSdk: pkg.dependencies['@temporalio/worker'],
    temporalCli: await version(path.join(venv, 'bin', 'temporal'), ['--version']),
    postgres: rows[0].version.split(' on ')[0],
    // `dbt --version` opens with "Core:", then "  - installed: 1.10.23".
    dbt: (await run(path.join(venv, 'bin', 'dbt'), ['--version']).catch(() => ({ stdout: '' }))).stdout.match(/installed:\s*(\S+)/)?.[1] ?? 'not found',
  };
}

/** The day's results file, bench/results/<date>.json (<date>-quick.json for a quick run, not kept in git). */
export function resultsFile(quick: boolean): string {
  return path.join(projectRoot, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}.json`);
}

export async function writeResults(file: string, figures: Figure[], facts: Record<string, unknown>, quick: boolean): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  // A run of some scenarios (--only) replaces theirs in the day's file and keeps the others.
  const ran = new Set(figures.map((f) => f.scenario));
  const earlier = await readFile(file, 'utf8').then(
    (text) => (JSON.parse(text) as { figures: Figure[] }).figures,
    () => [] as Figure[],
  );
  const merged = [...earlier.filter((f) => !ran.has(f.scenario)), ...figures];
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), quick, machine: facts, figures: merged }, null, 2)}\n`);
  return file;
}
