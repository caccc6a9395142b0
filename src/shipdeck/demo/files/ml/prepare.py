"""Prepare: a synthetic, seeded customer dataset, split into train and validation CSVs.

The same `seed` always gives byte-identical files, so runs are comparable.
"""

import csv
import math
import os
import random

from common import DATA_DIR, FEATURES, LABEL, int_param, metric, sigmoid, write_json

VALIDATION_SHARE = 0.25


def customer(rng):
    tenure = rng.randint(1, 72)
    contract_monthly = 1 if rng.random() < 0.55 else 0
    autopay = 1 if rng.random() < 0.45 else 0
    charges = round(rng.uniform(20, 120), 2)
    calls = min(9, int(rng.expovariate(0.7)))
    late = min(6, int(rng.expovariate(1.4 - 0.6 * contract_monthly)))
    risk = (
        -0.4
        - 0.07 * tenure
        + 0.03 * (charges - 70)
        + 0.6 * calls
        + 1.6 * contract_monthly
        - 1.0 * autopay
        + 0.45 * late
        + rng.gauss(0, 0.3)
    )
    churned = 1 if rng.random() < sigmoid(risk) else 0
    return [tenure, charges, calls, contract_monthly, autopay, late, churned]


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*FEATURES, LABEL])
        writer.writerows(rows)
    os.replace(tmp, path)


def column_stats(rows):
    means, stds = [], []
    for column in range(len(FEATURES)):
        values = [row[column] for row in rows]
        mean = sum(values) / len(values)
        variance = sum((v - mean) ** 2 for v in values) / len(values)
        means.append(mean)
        stds.append(math.sqrt(variance) or 1.0)
    return means, stds


def main():
    seed = int_param("seed", 7, 0, 2**31)
    count = int_param("rows", 600, 40, 200_000)
    rng = random.Random(seed)
    rows = [customer(rng) for _ in range(count)]
    split = int(count * (1 - VALIDATION_SHARE))
    train, validation = rows[:split], rows[split:]
    os.makedirs(DATA_DIR, exist_ok=True)
    write_csv(os.path.join(DATA_DIR, "train.csv"), train)
    write_csv(os.path.join(DATA_DIR, "validation.csv"), validation)
    means, stds = column_stats(train)
    churn_rate = sum(row[-1] for row in rows) / count
    write_json(
        os.path.join(DATA_DIR, "meta.json"),
        {"seed": seed, "rows": count, "features": FEATURES, "means": means, "stds": stds},
    )
    print(f"seed {seed}: {len(train)} training rows, {len(validation)} validation rows")
    print(f"churn rate {churn_rate:.1%}")
    metric("rows_train", len(train))
    metric("rows_validation", len(validation))
    metric("churn_rate", round(churn_rate, 4))


if __name__ == "__main__":
    main()
