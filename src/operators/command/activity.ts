/**
 * The `command` operator's activity, Airflow's BashOperator done safely: a program and an
 * argument array, never a shell; an environment of its own (PATH, HOME, LANG and what the task
 * sets: the worker's secrets are not passed on); a working folder inside the project; a heartbeat
 * while it runs; its process group killed when the task is cancelled or times out; the tail of
 * its output kept. Exit 0 succeeds, 99 skips the task (Airflow's skip_on_exit_code), anything
 * else fails (retried as the task's retries say); a program that is not there fails at once.
 */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal, cancelledError, whileHeartbeating } from '../../data/heartbeat';
import { projectRoot } from '../../config';
import type { OperatorInput } from '../common';

export interface CommandOperatorInput extends OperatorInput {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface CommandOperatorResult {
  exitCode: number;
  /** The last lines of its output (stdout and stderr). */
  tail: string;
  skipped?: string;
}

/** How much of the output is kept: the last lines, this many bytes at most. */
export const TAIL_BYTES = 2048;
/** Airflow's skip_on_exit_code default. */
export const SKIP_EXIT_CODE = 99;
const KILL_GRACE_MS = 5_000;

async function workingFolder(cwd: string | undefined): Promise<string> {
  const root = await realpath(projectRoot);
  if (!cwd) return root;
  let real: string;
  try {
    real = await realpath(path.resolve(root, cwd));
  } catch {
    throw ApplicationFailure.nonRetryable(`command: working folder ${cwd} does not exist under the project`, 'FileNotFound');
  }
  if (real !== root && !real.startsWith(root + path.sep))
    throw ApplicationFailure.nonRetryable(`command: working folder ${cwd} leaves the project`, 'PathOutsideProject');
  return real;
}

export function createCommandOperator() {
  return async function operatorCommand(input: CommandOperatorInput): Promise<CommandOperatorResult> {
    const [program, ...args] = input.argv;
    const cwd = await workingFolder(input.cwd);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: process.env.LANG ?? 'C.UTF-8',
      TZ: 'UTC',
      BATON_DAG_ID: input.dagId,
      BATON_TASK_ID: input.taskId,
      BATON_DS: input.ds,
      BATON_TRY_NUMBER: String(input.attempt),
      ...input.env,
    };
    const signal = cancellationSignal();
    if (signal.aborted) throw cancelledError(signal);
    let tail = Buffer.alloc(0);
    let truncated = false;
    const keep = (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > TAIL_BYTES * 2) {
        tail = tail.subarray(tail.length - TAIL_BYTES);
        truncated = true;
      }
    };
    /** The last TAIL_BYTES of output, from a line's start. */
    const text = () => {
      const cut = truncated || tail.length > TAIL_BYTES;
      const s = tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString('utf8');
      return (cut ? s.slice(s.indexOf('\n') + 1) : s).trimEnd();
    };
    const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const exit = await whileHeartbeating(
        new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
          child.once('error', reject);
          child.once('close', (code, sig) => resolve({ code, signal: sig }));
        }),
        () => ({ pid: child.pid, tail: text().slice(-200) }),
      ).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT')
          throw ApplicationFailure.nonRetryable(`command: ${program}: no such program (argv[0] is run directly, not through a shell)`, 'CommandNotFound');
        if (err.code === 'EACCES') throw ApplicationFailure.nonRetryable(`command: ${program}: not executable`, 'CommandNotFound');
        throw err;
      });
      if (signal.aborted) throw cancelledError(signal);
      const output = text();
      if (exit.code === 0) return { exitCode: 0, tail: output };
      if (exit.code === SKIP_EXIT_CODE) return { exitCode: SKIP_EXIT_CODE, tail: output, skipped: `exit code ${SKIP_EXIT_CODE}` };
      const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
      throw ApplicationFailure.retryable(`command ${program} ${how}${output ? `: ${output.split('\n').slice(-5).join(' | ')}` : ''}`, 'CommandFailed');
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      killGroup('SIGKILL'); // nothing of the task outlives it
    }
  };
}
