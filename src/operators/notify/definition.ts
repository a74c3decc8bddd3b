/** The `notify` operator's settings, output and templates, and its builder: a mail. Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import type { TaskBase } from '../../sdk/types';
import { common } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface NotifyTask extends TaskBase {
  operator: 'notify';
  to: readonly string[];
  subject: string;
  body: string;
}

/** notify: whether the mail went out or, with no SMTP server set, was logged. */
export interface NotifyOutput {
  delivered: 'mailed' | 'logged';
}

export const notifyDefinition: OperatorDefinition<NotifyTask, NotifyOutput> = {
  operator: 'notify',
  settings: z.object({ ...common, to: z.array(z.string().email()).min(1), subject: z.string().min(1), body: z.string() }).strict(),
  outputFields: ['delivered'],
  templates: (task) => [task.subject, task.body],
};

/** A mail (templated subject and body). */
export const notify = <I extends Inputs = NoInputs>(taskId: string, settings: Settings<NotifyTask, I, NotifyOutput>) =>
  declare('notify', taskId, settings) as TaskOf<NotifyOutput>;
