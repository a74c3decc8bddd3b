"""Gives the DAG peers_grid <runs> finished runs in Airflow's metadata database, each task a success,
as a scheduler would have left them, and writes their run ids as JSON.

    python airflow_grid.py <runs> <out.json>

The grid's speed depends on what the database holds, not on how it got there: the runs are
written through Airflow's own models (create_dagrun, its task instances) rather than run, which
would take an hour at Airflow's pace.
"""
import datetime
import json
import sys
import time

from airflow.models.dagrun import DagRun
from airflow.models.serialized_dag import SerializedDagModel
from airflow.models.taskinstance import TaskInstance
from sqlalchemy import delete
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from airflow.utils.types import DagRunTriggeredByType, DagRunType

DAG_ID = "peers_grid"


def main(runs, out):
    deadline = time.monotonic() + 300
    while True:
        with create_session() as session:
            dag = SerializedDagModel.get_dag(DAG_ID, session=session)
        if dag is not None:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the dag processor did not parse {DAG_ID}")
        time.sleep(0.5)
    base = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    run_ids = []
    with create_session() as session:
        # A bench run before this one left its runs: the grid shows these alone.
        session.execute(delete(TaskInstance).where(TaskInstance.dag_id == DAG_ID))
        session.execute(delete(DagRun).where(DagRun.dag_id == DAG_ID))
        session.commit()
        for i in range(runs):
            logical = base + datetime.timedelta(days=i)
            started = logical + datetime.timedelta(days=1)
            run = dag.create_dagrun(
                run_id=f"grid_{i:04d}",
                logical_date=logical,
                data_interval=(logical, started),
                run_after=started,
                run_type=DagRunType.MANUAL,
                triggered_by=DagRunTriggeredByType.TEST,
                state=DagRunState.SUCCESS,
                start_date=started,
                session=session,
            )
            for n, ti in enumerate(run.get_task_instances(session=session)):
                ti.state = TaskInstanceState.SUCCESS
                ti.start_date = started + datetime.timedelta(seconds=n)
                ti.end_date = ti.start_date + datetime.timedelta(milliseconds=500)
                ti.try_number = 1
            run.end_date = started + datetime.timedelta(minutes=1)
            run_ids.append(run.run_id)
        session.commit()
    with open(out, "w") as f:
        json.dump({"run_ids": run_ids}, f)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
