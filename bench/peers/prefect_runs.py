"""Runs Prefect flows on request, locally (the ephemeral API under PREFECT_HOME), so that the
benchmark can take turns between Baton and Prefect within one Prefect process.

    python prefect_runs.py      (in the directory holding data/raw and data/processed)

Starts the ephemeral API with a first no-op flow run, then reads one command a line on stdin
and answers each with one JSON line on file descriptor 3 (its logs go to stdout and stderr):

    noop            a flow of 7 chained no-op tasks; each task run's start and end as Prefect's
                    API records them (its Running and Completed states), and the flow run's
    orders <date>   the original pandas flow (orders_pipeline.py) for data/raw/orders_<date>.csv,
                    timed around the flow call, with each task's final state name
    quit
"""
import asyncio
import json
import os
import sys
import time

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.context import get_run_context

from orders_pipeline import orders_pipeline

TASKS = 7


@task
def noop(previous=None):
    """Does nothing: the task's cost is the orchestrator's alone."""
    return None


@flow(name="peers-noop")
def noop_flow():
    result = None
    for i in range(1, TASKS + 1):
        result = noop.with_options(name=f"task_{i}")(result)
    return get_run_context().flow_run.id


def iso(value):
    return value.isoformat() if value else None


async def task_timings(flow_run_id):
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        task_runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {
        "flow_run_id": str(flow_run_id),
        "state": flow_run.state_type.value,
        "start_time": iso(flow_run.start_time),
        "end_time": iso(flow_run.end_time),
        "tasks": sorted(
            ({"name": t.name, "state": t.state_type.value, "start_time": iso(t.start_time), "end_time": iso(t.end_time)} for t in task_runs),
            key=lambda t: t["start_time"] or "",
        ),
    }


def run_noop():
    wall = time.perf_counter()
    flow_run_id = noop_flow()
    wall = time.perf_counter() - wall
    return {**asyncio.run(task_timings(flow_run_id)), "wall_s": wall}


async def task_states(flow_run_id):
    async with get_client() as client:
        task_runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {t.name: t.state.name if t.state else None for t in task_runs}


def run_orders(start_date):
    wall = time.perf_counter()
    state = orders_pipeline(start_date=start_date, return_state=True)
    wall = time.perf_counter() - wall
    # Each task's final state name: "Cached" would mean extract_data did not read the file.
    tasks = asyncio.run(task_states(state.state_details.flow_run_id))
    return {"state": state.type.value, "message": state.message, "wall_s": wall, "tasks": tasks}


def main():
    answers = os.fdopen(3, "w", buffering=1)
    started = time.perf_counter()
    noop_flow()  # starts the ephemeral API and imports what a run needs
    answers.write(json.dumps({"ready": True, "first_flow_s": time.perf_counter() - started}) + "\n")
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "quit":
            break
        if command[0] == "noop":
            answer = run_noop()
        elif command[0] == "orders" and len(command) == 2:
            answer = run_orders(command[1])
        else:
            answer = {"error": f"unknown command {line.strip()!r}"}
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
