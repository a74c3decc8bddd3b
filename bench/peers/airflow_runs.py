"""Triggers runs of a DAG one after another on a running Airflow and writes their timings as JSON.

    python airflow_runs.py <dag_id> <runs> <timeout seconds> <out.json>

Each run is triggered as `airflow dags trigger` does (the local API client) once the previous
one has ended; the times are the metadata database's own: the dag run's queued, start and end
dates and each task instance's start and end dates.
"""
import json
import sys
import time
import uuid

from airflow.api.client import get_current_api_client
from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

TERMINAL = {"success", "failed"}


def iso(value):
    return value.isoformat() if value else None


def wait(what, check, deadline):
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def dag_parsed(dag_id):
    with create_session() as session:
        dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
        return True if dag is not None and dag.is_stale is False else None


def run_state(dag_id, run_id):
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        state = str(run.state.value if hasattr(run.state, "value") else run.state) if run else None
        return state if state in TERMINAL else None


def timings(dag_id, run_id):
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)).all()
        return {
            "run_id": run_id,
            "state": str(run.state.value if hasattr(run.state, "value") else run.state),
            "queued_at": iso(run.queued_at),
            "start_date": iso(run.start_date),
            "end_date": iso(run.end_date),
            "tasks": sorted(
                (
                    {"task_id": ti.task_id, "state": str(ti.state), "start_date": iso(ti.start_date), "end_date": iso(ti.end_date)}
                    for ti in tis
                ),
                key=lambda t: t["start_date"] or "",
            ),
        }


def main(dag_id, runs, timeout, out):
    deadline = time.monotonic() + timeout
    wait(f"the dag processor to parse {dag_id}", lambda: dag_parsed(dag_id), deadline)
    client = get_current_api_client()
    results = []
    for i in range(runs):
        run_id = f"peers_{i}_{uuid.uuid4().hex[:8]}"
        client.trigger_dag(dag_id=dag_id, run_id=run_id)
        wait(f"run {run_id} to end", lambda: run_state(dag_id, run_id), deadline)
        results.append(timings(dag_id, run_id))
        print(f"airflow run {i + 1} of {runs}: {results[-1]['state']}", file=sys.stderr, flush=True)
    with open(out, "w") as f:
        json.dump({"runs": results}, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
