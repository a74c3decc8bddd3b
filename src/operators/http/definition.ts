/** The `http` operator's settings, output and templates, and its builder: a call on a named connection. Pure. */
import { z } from 'zod';
import { declare, type NoInputs, type Settings, type TaskOf } from '../../sdk/dag';
import type { Inputs } from '../../sdk/refs';
import { templatesIn } from '../../sdk/templates';
import type { TaskBase } from '../../sdk/types';
import { common, connName } from '../common';
import type { OperatorDefinition } from '../definitions';

export interface HttpTask extends TaskBase {
  operator: 'http';
  /** A connection name whose URL is the base (BATON_CONN_<NAME>=https://...). */
  conn: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path under the connection's URL (templated). */
  path: string;
  json?: unknown;
  /** The statuses that count as success; 2xx by default. 5xx is retried, other statuses fail. */
  expectStatus?: number | readonly number[];
}

/** http: the status, and the response's JSON when it is small enough for XCom. */
export interface HttpOutput<J = unknown> {
  status: number;
  bytes: number;
  json: J;
}

const status = z.number().int().min(100).max(599);

export const httpDefinition: OperatorDefinition<HttpTask, HttpOutput> = {
  operator: 'http',
  settings: z
    .object({
      ...common,
      conn: connName,
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
      path: z.string().startsWith('/', 'a path under the connection, starting with /'),
      json: z.unknown().optional(),
      expectStatus: z.union([status, z.array(status).min(1)]).optional(),
    })
    .strict(),
  outputFields: ['status', 'bytes', 'json'],
  templates: (task) => [task.path, ...templatesIn(task.json ?? null)],
};

/** An HTTP call on a named connection; `J` is the JSON it answers with. */
export const http = <J = unknown, I extends Inputs = NoInputs>(taskId: string, settings: Settings<HttpTask, I, HttpOutput<J>>) =>
  declare('http', taskId, settings) as TaskOf<HttpOutput<J>>;
