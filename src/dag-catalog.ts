/**
 * Every DAG of a project: every DAG file of its DAGs folder, by path. What the CLI lists,
 * triggers and tests and what the schedule sync schedules. A DAG file that does not validate is left out, named in `broken` (`baton dags
 * validate` lists every problem).
 */
import { loadProject, type Project } from './config';
import { loadValidDags, type DagFileError, type LoadedDag } from './dag-files';
import type { DagDefinition } from './dags';

export interface Catalog {
  dags: DagDefinition[];
  files: LoadedDag[];
  /** The DAG files that do not validate, each naming its problems; the others are in `dags`. */
  broken: DagFileError[];
}

/** The DAGs of a project (the one Baton works on by default), each going to the project's task queue. */
export function loadCatalog(project: Pick<Project, 'dagsDir' | 'taskQueue'> = loadProject()): Catalog {
  const { dags: files, broken } = loadValidDags(project.dagsDir);
  const dags = files.map((f) => ({ ...f.dag.definition, taskQueue: project.taskQueue }));
  const ids = new Set<string>();
  for (const d of dags) {
    if (ids.has(d.dagId)) throw new Error(`two DAGs have the dag_id ${d.dagId}: rename one`);
    ids.add(d.dagId);
  }
  return { dags, files, broken };
}

export function findInCatalog(catalog: Catalog, dagId: string): DagDefinition | undefined {
  return catalog.dags.find((d) => d.dagId === dagId);
}
