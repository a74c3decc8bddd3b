# The Prefect flow of ORIGINAL-PIPELINES.md 8.4 as its users wrote it (the snippet's missing
# `import pandas as pd` added, and its run line moved to prefect_runs.py). Reads
# data/raw/orders_<start_date>.csv and writes data/processed/orders_<start_date>.parquet,
# relative to the working directory.
import pandas as pd
from prefect import flow, task, get_run_logger
from prefect.tasks import task_input_hash
from datetime import timedelta

@task(retries=2, cache_key_fn=task_input_hash, cache_expiration=timedelta(hours=1))
def extract_data(start_date: str) -> pd.DataFrame:
    logger = get_run_logger()
    logger.info(f"Extracting from {start_date}")
    df = pd.read_csv(f"data/raw/orders_{start_date}.csv")
    return df

@task
def transform_data(df: pd.DataFrame) -> pd.DataFrame:
    logger = get_run_logger()
    logger.info(f"Transforming {len(df)} rows")
    df = df.dropna(subset=["order_id"])
    df["amount"] = df["amount"].astype(float)
    return df

@task
def load_data(df: pd.DataFrame, target: str):
    logger = get_run_logger()
    df.to_parquet(f"data/processed/{target}.parquet", index=False)
    logger.info(f"Loaded {len(df)} rows to {target}")

@flow(name="orders-etl", log_prints=True)
def orders_pipeline(start_date: str = "2024-01-01"):
    raw = extract_data(start_date)
    clean = transform_data(raw)
    load_data(clean, target=f"orders_{start_date}")
