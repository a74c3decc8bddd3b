"""The console scenario's DAG on Airflow: 50 no-op tasks, five chains of 10 (bench/engine-dags.ts's
bench_console_grid), unscheduled: bench/peers/airflow_grid.py gives it its finished runs."""
import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("peers_grid", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False, tags=["bench"]):
    for prefix in ["extract", "clean", "load", "check", "publish"]:
        previous = None
        for i in range(1, 11):
            task = EmptyOperator(task_id=f"{prefix}_{i}")
            if previous is not None:
                previous >> task
            previous = task
