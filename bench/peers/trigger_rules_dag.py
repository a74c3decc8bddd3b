"""
Airflow's own verdicts on every trigger rule, for Baton's test of the same DAG shapes
(test/workflow/trigger-rules.test.ts): for each rule and each pair of upstream outcomes
(success, failed, skipped, upstream_failed) a task with that rule after two tasks that end so;
and a setup, the work in its scope and its teardown, for each way the setup and the work end.

As a DAG file, it defines the DAG. Run with the peers venv's python as
`AIRFLOW_HOME=<empty dir> python trigger_rules_dag.py <out.json>`, it puts itself in that
home's dags folder, runs it once with `airflow dags test` and writes every task's final state.
"""
import subprocess
import sys

RULES = [
    "all_success", "all_failed", "all_done", "all_done_setup_success", "one_success", "one_failed", "one_done",
    "none_failed", "none_failed_min_one_success", "none_skipped", "always", "all_skipped", "all_done_min_one_success",
]
OUTCOMES = ["success", "failed", "skipped", "upstream_failed"]
DAG_ID = "baton_trigger_rules"


def build():
    import itertools
    from datetime import datetime, timezone

    from airflow.exceptions import AirflowSkipException
    from airflow.sdk import DAG, task

    @task(retries=0)
    def ok():
        return None

    @task(retries=0)
    def fail():
        raise RuntimeError("fails")

    @task(retries=0)
    def skip():
        raise AirflowSkipException("skips")

    def ending(task_id, outcome):
        if outcome == "success":
            return ok.override(task_id=task_id)()
        if outcome == "failed":
            return fail.override(task_id=task_id)()
        if outcome == "skipped":
            return skip.override(task_id=task_id)()
        failer = fail.override(task_id=f"{task_id}_cause")()
        after = ok.override(task_id=task_id)()
        failer >> after
        return after

    with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), catchup=False) as dag:
        for rule in RULES:
            for a, b in itertools.combinations_with_replacement(OUTCOMES, 2):
                prefix = f"{rule}__{a}__{b}"
                ups = [ending(f"{prefix}__u1", a), ending(f"{prefix}__u2", b)]
                ups >> ok.override(task_id=f"{prefix}__t", trigger_rule=rule)()
        for s, w in itertools.product(["success", "failed", "skipped"], ["success", "failed"]):
            prefix = f"setup__{s}__{w}"
            setup = ending(f"{prefix}__setup", s).as_setup()
            work = ending(f"{prefix}__work", w)
            report = ok.override(task_id=f"{prefix}__report", trigger_rule="all_done")()
            teardown = ok.override(task_id=f"{prefix}__teardown")().as_teardown(setups=setup)
            setup >> work >> report >> teardown
    return dag


def main(out: str) -> None:
    import os
    import shutil

    home = os.environ["AIRFLOW_HOME"]
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(home, "dags")}
    os.makedirs(env["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)
    shutil.copy(__file__, env["AIRFLOW__CORE__DAGS_FOLDER"])
    airflow_cli = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow_cli, "db", "migrate"], check=True, capture_output=True, env=env)
    subprocess.run([*airflow_cli, "dags", "reserialize"], check=True, capture_output=True, env=env)
    # A run with failed tasks makes `dags test` exit non-zero: the states are what is read.
    subprocess.run([*airflow_cli, "dags", "test", DAG_ID, "2024-01-02"], capture_output=True, env=env)
    reader = "\n".join([
        "import json, airflow",
        "from airflow.models.taskinstance import TaskInstance",
        "from airflow.utils.session import create_session",
        "from sqlalchemy import select",
        "with create_session() as s:",
        f"    tis = s.scalars(select(TaskInstance).where(TaskInstance.dag_id == {DAG_ID!r})).all()",
        "    states = {ti.task_id: str(getattr(ti.state, 'value', ti.state)) for ti in tis}",
        "print(json.dumps({'airflow': airflow.__version__, 'states': dict(sorted(states.items()))}, indent=1))",
    ])
    result = subprocess.run([sys.executable, "-c", reader], check=True, capture_output=True, text=True, env=env)
    with open(out, "w") as f:
        f.write(result.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
else:
    dag = build()
