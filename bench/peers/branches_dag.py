"""Two independent branches of 5 no-op tasks, and one branch alone: what parallel branches cost in Airflow,
beside Baton's DAG engine running the same graph (bench/engine-dags.ts)."""
from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def noop(**context):
    """Does nothing: the task's cost is the orchestrator's alone."""


def branch(prefix):
    tasks = [PythonOperator(task_id=f"{prefix}_{i}", python_callable=noop) for i in range(1, 6)]
    for upstream, downstream in zip(tasks, tasks[1:]):
        upstream >> downstream


for dag_id, prefixes in (("peers_branches", ("a", "b")), ("peers_one_branch", ("a",))):
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 0},
        tags=["bench"],
    ) as dag:
        for prefix in prefixes:
            branch(prefix)
    globals()[dag_id] = dag
