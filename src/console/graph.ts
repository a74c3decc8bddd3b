/**
 * A DAG drawn left to right as SVG: dagre lays it out (no layout of our own), each task a box
 * coloured by its state in the chosen run (none chosen: the DAG's structure), its operator and a
 * trigger rule other than all_success under its id, and a setup's edge to its teardown dashed.
 */
import dagre from '@dagrejs/dagre';
import { html, type Html } from './html';
import type { TaskRecord } from '../contracts';
import type { CompiledDag } from '../sdk/compile';

const NODE = { width: 240, height: 46 };

export interface GraphNode {
  taskId: string;
  operator: string;
  triggerRule: string;
  teardown: boolean;
  setup: boolean;
  x: number;
  y: number;
  state?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** A setup to its teardown (Airflow draws it dotted). */
  teardown: boolean;
  points: Array<{ x: number; y: number }>;
}

/** The DAG's layout, with each task's state in `tasks` when a run is chosen. */
export function layoutDag(dag: CompiledDag, tasks?: readonly TaskRecord[]): { width: number; height: number; nodes: GraphNode[]; edges: GraphEdge[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const task of dag.tasks) g.setNode(task.taskId, { ...NODE });
  for (const task of dag.tasks) for (const up of task.upstream) g.setEdge(up, task.taskId);
  dagre.layout(g);
  const states = new Map((tasks ?? []).map((t) => [t.taskId, t.state]));
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const nodes = dag.tasks.map((task): GraphNode => {
    const at = g.node(task.taskId);
    return {
      taskId: task.taskId,
      operator: task.definition.operator,
      triggerRule: task.triggerRule,
      teardown: task.teardown,
      setup: task.setup,
      x: at.x - NODE.width / 2,
      y: at.y - NODE.height / 2,
      ...(states.has(task.taskId) ? { state: states.get(task.taskId) } : {}),
    };
  });
  const edges = g.edges().map((e): GraphEdge => ({
    from: e.v,
    to: e.w,
    teardown: !!byId.get(e.w)?.teardown && (byId.get(e.w)?.setups ?? []).includes(e.v),
    points: g.edge(e).points,
  }));
  const { width = 0, height = 0 } = g.graph();
  return { width, height, nodes, edges };
}

/** The layout as SVG; each task links to `href(taskId)` when given (its panel in the run). */
export function graphSvg(layout: ReturnType<typeof layoutDag>, href?: (taskId: string) => string): Html {
  const path = (points: GraphEdge['points']) => points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const box = (n: GraphNode) => {
    const sub = [n.operator, n.setup ? 'setup' : '', n.teardown ? 'teardown' : '', n.triggerRule !== 'all_success' ? n.triggerRule : '']
      .filter(Boolean)
      .join(' · ');
    const body = html`<rect x="${n.x}" y="${n.y}" width="${NODE.width}" height="${NODE.height}" rx="6" class="node s-${n.state ?? 'none'}"></rect>
      <text x="${n.x + 10}" y="${n.y + 19}" class="node-id">${n.taskId}</text>
      <text x="${n.x + 10}" y="${n.y + 36}" class="node-sub">${sub}${n.state ? ` · ${n.state}` : ''}</text>`;
    return href
      ? html`<a href="${href(n.taskId)}" class="graph-task" data-task="${n.taskId}" aria-label="${n.taskId} ${n.state ?? ''}">${body}</a>`
      : html`<g class="graph-task" data-task="${n.taskId}">${body}</g>`;
  };
  return html`<svg
    class="graph"
    role="img"
    aria-label="the DAG's graph"
    viewBox="0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}"
    width="${Math.ceil(layout.width)}"
    height="${Math.ceil(layout.height)}"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow"></path>
      </marker>
    </defs>
    ${layout.edges.map((e) => html`<path d="${path(e.points)}" class="edge${e.teardown ? ' edge-teardown' : ''}" marker-end="url(#arrow)" data-from="${e.from}" data-to="${e.to}"></path>`)}
    ${layout.nodes.map(box)}
  </svg>`;
}
