"""
Airflow 3's dynamic task mapping, for the peers figure beside Baton's mapping scenario: a task
that returns N item numbers, then a no-op task expanded over them (`each.expand(item=items())`).

As a DAG file, it defines the DAG (N from BATON_MAP_ITEMS). Run with the peers venv's python as
`AIRFLOW_HOME=<empty dir> python mapped_dag.py <N> <out.json>`, it puts itself in that home's dags
folder, lets Airflow map up to N items (core.max_map_length, 1024 by default), runs the DAG once
with `airflow dags test` and writes the mapped instances' count, states and first start to last end.
"""
import os
import subprocess
import sys

DAG_ID = "baton_mapped"


def build():
    from datetime import datetime, timezone

    from airflow.sdk import DAG, task

    n = int(os.environ.get("BATON_MAP_ITEMS", "1000"))

    @task(retries=0)
    def items():
        return list(range(n))

    @task(retries=0)
    def each(item):
        return None

    with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), catchup=False) as dag:
        each.expand(item=items())
    return dag


def main(n: str, out: str) -> None:
    import shutil
    import time

    home = os.environ["AIRFLOW_HOME"]
    env = {
        **os.environ,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(home, "dags"),
        "AIRFLOW__CORE__MAX_MAP_LENGTH": n,
        "BATON_MAP_ITEMS": n,
    }
    os.makedirs(env["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)
    shutil.copy(__file__, env["AIRFLOW__CORE__DAGS_FOLDER"])
    airflow_cli = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow_cli, "db", "migrate"], check=True, capture_output=True, env=env)
    subprocess.run([*airflow_cli, "dags", "reserialize"], check=True, capture_output=True, env=env)
    started = time.time()
    test = subprocess.run([*airflow_cli, "dags", "test", DAG_ID, "2024-01-02"], capture_output=True, text=True, env=env)
    wall = time.time() - started
    reader = "\n".join([
        "import json, airflow",
        "from airflow.models.taskinstance import TaskInstance",
        "from airflow.utils.session import create_session",
        "from sqlalchemy import select",
        "with create_session() as s:",
        f"    tis = s.scalars(select(TaskInstance).where(TaskInstance.dag_id == {DAG_ID!r}, TaskInstance.task_id == 'each')).all()",
        "    states = {}",
        "    for ti in tis: states[str(getattr(ti.state, 'value', ti.state))] = states.get(str(getattr(ti.state, 'value', ti.state)), 0) + 1",
        "    starts = [ti.start_date.timestamp() for ti in tis if ti.start_date]",
        "    ends = [ti.end_date.timestamp() for ti in tis if ti.end_date]",
        "print(json.dumps({'airflow': airflow.__version__, 'instances': len(tis), 'states': states,",
        "  'seconds': (max(ends) - min(starts)) if starts and ends else None}))",
    ])
    result = subprocess.run([sys.executable, "-c", reader], check=True, capture_output=True, text=True, env=env)
    report = {**__import__("json").loads(result.stdout), "wall_seconds": wall, "exit_code": test.returncode, "stderr_tail": test.stderr[-2000:]}
    with open(out, "w") as f:
        f.write(__import__("json").dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
else:
    dag = build()
