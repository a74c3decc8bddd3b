/**
 * The `command` operator's settings, output and templates, and its builder: a program with an
 * argument array, never through a shell (Airflow's BashOperator done safely). Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, relativePath } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface CommandTask extends TaskBase {
  operator: 'command';
  /** The program and its arguments (templated); never through a shell. */
  argv: readonly string[];
  env?: Record<string, string>;
  /** The working folder, relative to the project root (it must stay inside). */
  cwd?: string;
}

/** command: its exit code and the last lines of its output. */
export interface CommandOutput {
  exitCode: number;
  /** The last lines of its output (stdout and stderr), trimmed. */
  tail: string;
}

export const commandDefinition: OperatorDefinition<CommandTask, CommandOutput> = {
  operator: 'command',
  settings: z
    .object({
      ...common,
      argv: z.array(z.string()).min(1, 'the program to run, then its arguments'),
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string()).optional(),
      cwd: relativePath.optional(),
    })
    .strict(),
  outputFields: ['exitCode', 'tail'],
  templates: (task) => [...task.argv, ...Object.values(task.env ?? {})],
};

/** A program with an argument array, no shell (Airflow's BashOperator done safely). */
export const command = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<CommandTask, I, CommandOutput>) =>
  declare('command', taskId, settings) as TaskOf<CommandOutput>;
