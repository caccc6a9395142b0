"""Stream: replay scoring data, one batch of customers every `interval` seconds.

Each batch lands as stream/batch-NNN.csv (the `score` pipeline's `on_change` trigger watches
them) and as stream/latest.csv (what the `drift` monitor compares with the training data).
Batches carry the churn outcome too, as a replay of customers whose outcome is known by now:
that is what `retrain` learns from.

From batch `drift_from` on, the customers come from a new cheap monthly plan: shorter tenure,
lower charges, monthly contracts, more support calls, and churn that follows them differently.
The model trained on the old customers scores them worse, and the drift monitor sees it.

Seeded: the same `seed` and batch number always give the same bytes. A new stream first
removes the batches of the previous one, so stream/ never holds more than `batches` of them.
"""

import csv
import glob
import os
import random
import time

from common import FEATURES, LABEL, float_param, int_param, metric
from prepare import CURRENT_PLAN, Plan, customer

STREAM_DIR = "stream"


NEW_PLAN = Plan(
    longest_tenure=24,
    monthly_share=0.85,
    autopay_share=0.25,
    charges=(15, 60),
    calls_rate=0.45,
    base_risk=-1.0,
    per_month=0.12,
    per_charge=0.04,
    typical_charges=35,
    per_call=0.9,
    per_monthly_contract=0.0,
    per_autopay=1.2,
    per_late_payment=0.8,
)
"""The new cheap monthly plan: the population (and what drives churn) has moved."""


def batch_rows(seed, number, rows, drift_from):
    rng = random.Random(seed * 100_003 + number)
    plan = NEW_PLAN if number >= drift_from else CURRENT_PLAN
    return [customer(rng, plan) for _ in range(rows)]


def write_csv(path, rows):
    # Written beside the target under a hidden name (no `batch-*.csv` pattern matches it), then
    # renamed: a watcher never sees half a batch.
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*FEATURES, LABEL])
        writer.writerows(rows)
    os.replace(tmp, path)


def main():
    seed = int_param("seed", 7, 0, 2**31)
    batches = int_param("batches", 8, 1, 50)
    rows = int_param("rows", 300, 40, 100_000)
    drift_from = int_param("drift_from", 4, 1, 1_000)
    interval = float_param("interval", 4, 0.0, 3600.0)
    os.makedirs(STREAM_DIR, exist_ok=True)
    for old in glob.glob(os.path.join(STREAM_DIR, "batch-*.csv")):
        os.remove(old)
    print(f"streaming {batches} batches of {rows} customers, one every {interval:g}s", flush=True)
    for number in range(1, batches + 1):
        if number > 1:
            time.sleep(interval)
        data = batch_rows(seed, number, rows, drift_from)
        path = os.path.join(STREAM_DIR, f"batch-{number:03d}.csv")
        write_csv(path, data)
        write_csv(os.path.join(STREAM_DIR, "latest.csv"), data)
        churn_rate = sum(row[-1] for row in data) / len(data)
        note = " (new plan: the customers have changed)" if number >= drift_from else ""
        print(f"batch {number}: {path}, churn rate {churn_rate:.1%}{note}", flush=True)
        metric("batch", number, step=number)
        metric("churn_rate", round(churn_rate, 4), step=number)
    print(f"done: {batches} batches in {STREAM_DIR}/ (`shipdeck run stream` replays them)")


if __name__ == "__main__":
    main()
