/**
 * The `approval` operator's settings and output, and its builder: a task that waits for a person
 * (Airflow's human-in-the-loop operators) to approve or reject, to choose which tasks follow, or
 * to enter a typed value. Pure.
 */
import { z } from 'zod';
import { declare, type NoInputs, type TaskOf, type TaskSettings } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common, duration } from '../common';
import type { OperatorDefinition } from '../definitions';

/** A schema a typed answer is checked against: zod's. */
export interface AnswerSchema<T = unknown> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } };
}

export interface ApprovalTask extends TaskBase {
  operator: 'approval';
  /** What is asked (templated): the line the person sees. */
  subject: string;
  /** More about it (templated): what to look at before answering. */
  body?: string;
  /** A branch choice: the task ids (directly downstream) a person chooses from; the others are skipped. */
  options?: readonly string[];
  /** A typed value a person enters, checked against this schema before it is accepted. */
  schema?: AnswerSchema;
  /** How long it waits for an answer; without it, until answered. */
  timeout?: string;
  /** What a timeout decides: approve, reject, the options chosen, or the value. Without it a timeout fails the task. */
  onTimeout?: 'approve' | 'reject' | { choose: readonly string[] } | { value: unknown };
  /** Who is mailed that it waits (besides the DAG's notifiers for `approval`). */
  notify?: readonly string[];
}

/** What every answer records: whether it was approved, who answered (or `timeout`), when, and why. */
export interface ApprovalOutput {
  approved: boolean;
  by: string;
  /** When it was answered (workflow time, ISO 8601). */
  at: string;
  reason?: string;
}
/** A branch choice's answer: the options chosen. */
export interface ApprovalChoiceOutput<O extends string = string> extends ApprovalOutput {
  chosen: O[];
}
/** A typed value's answer. */
export interface ApprovalEntryOutput<T> extends ApprovalOutput {
  value: T;
}

const schemaSetting = z.custom<AnswerSchema>((s) => typeof (s as AnswerSchema | undefined)?.safeParse === 'function', 'a zod schema');

export const approvalDefinition: OperatorDefinition<ApprovalTask, ApprovalOutput & { chosen?: string[]; value?: unknown }> = {
  operator: 'approval',
  settings: z
    .object({
      ...common,
      subject: z.string().min(1),
      body: z.string().optional(),
      options: z.array(z.string().min(1)).min(2).optional(),
      schema: schemaSetting.optional(),
      timeout: duration.optional(),
      onTimeout: z
        .union([z.enum(['approve', 'reject']), z.object({ choose: z.array(z.string()).min(1) }).strict(), z.object({ value: z.unknown() }).strict()])
        .optional(),
      notify: z.array(z.string().email()).min(1).optional(),
    })
    .strict()
    .refine((t) => !(t.options && t.schema), 'an approval takes options (a branch choice) or a schema (a typed value), not both')
    .refine((t) => !(t.onTimeout && !t.timeout), 'onTimeout needs a timeout'),
  outputFields: (task) => ['approved', 'by', 'at', 'reason', ...(task.options ? ['chosen'] : []), ...(task.schema ? ['value'] : [])],
  templates: (task) => [task.subject, ...(task.body ? [task.body] : [])],
};

interface Asked<I extends Inputs> extends TaskSettings<I, ApprovalOutput> {
  subject: string;
  body?: string;
  timeout?: string;
  notify?: readonly string[];
}

/**
 * Waits for a person to approve or reject (`baton runs approve|reject`); a rejection skips the
 * tasks directly downstream. With `options`, the person chooses which of the tasks directly
 * downstream run; with `schema`, enters a value of its type. Waiting holds no worker slot.
 */
export function approval<I extends Inputs = NoInputs>(taskId: string, settings: Asked<I> & { onTimeout?: 'approve' | 'reject' }): TaskOf<ApprovalOutput>;
export function approval<const O extends string, I extends Inputs = NoInputs>(
  taskId: string,
  settings: Asked<I> & { options: readonly O[]; onTimeout?: 'reject' | { choose: readonly O[] } },
): TaskOf<ApprovalChoiceOutput<O>>;
export function approval<S extends AnswerSchema, I extends Inputs = NoInputs>(
  taskId: string,
  settings: Asked<I> & { schema: S; onTimeout?: 'reject' | { value: AnswerOf<S> } },
): TaskOf<ApprovalEntryOutput<AnswerOf<S>>>;
export function approval(taskId: string, settings: object): unknown {
  return declare('approval', taskId, settings);
}

/** The type of the value a schema accepts. */
export type AnswerOf<S> = S extends AnswerSchema<infer T> ? T : never;
