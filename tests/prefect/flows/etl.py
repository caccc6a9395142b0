"""A small flow served with `flow.serve()`, the Prefect server's executor in the tests.

extract -> (transform_a, transform_b) -> load; transform_b fails while the file named by
`flag` exists, and `slow` makes load sleep (for cancelling a running flow run). nested runs
etl as a subflow.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, serve, task


@task
def extract(rows: int) -> list[int]:
    print(f"extracting {rows} rows")
    return list(range(rows))


@task
def transform_a(data: list[int]) -> int:
    return sum(data)


@task
def transform_b(data: list[int], flag: str) -> int:
    if flag and Path(flag).exists():
        raise RuntimeError(f"boom: flag file {flag} exists")
    return max(data)


@task
def load(a: int, b: int, slow: float) -> str:
    print(f"loading {a} {b}")
    time.sleep(slow)
    return f"loaded {a} {b}"


@flow(name="etl", log_prints=True)
def etl(rows: int = 10, slow: float = 0.0, flag: str = "") -> str:
    # Futures, not values, carry the edges of the graph Prefect records.
    data = extract.submit(rows)
    a, b = transform_a.submit(data), transform_b.submit(data, flag)
    return load.submit(a, b, slow).result()


@flow(name="nested", log_prints=True)
def nested() -> str:
    """etl as a subflow: its flow run is a node of this one's graph."""
    print("before the subflow")
    return etl(rows=2)


if __name__ == "__main__":
    serve(etl.to_deployment(name="nightly"), nested.to_deployment(name="nightly"))
