"""The 7-task no-op DAG, chained like Baton's noopDag: what one task hand-off costs in Airflow."""
from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def noop(**context):
    """Does nothing: the task's cost is the orchestrator's alone."""


with DAG(
    dag_id="peers_noop",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    tags=["bench"],
) as dag:
    tasks = [PythonOperator(task_id=f"task_{i}", python_callable=noop) for i in range(1, 8)]
    for upstream, downstream in zip(tasks, tasks[1:]):
        upstream >> downstream
