"""Prepare: a synthetic, seeded customer dataset, split into train and validation CSVs.

The same `seed` always gives byte-identical files, so runs are comparable.
"""

import csv
import math
import os
import random
from dataclasses import dataclass

from common import DATA_DIR, FEATURES, LABEL, int_param, metric, sigmoid, write_json

VALIDATION_SHARE = 0.25


@dataclass(frozen=True)
class Plan:
    """The customers of a plan: who they are, and how each trait weighs on their churn risk."""

    longest_tenure: int
    """Months."""
    monthly_share: float
    """Customers on a monthly contract."""
    autopay_share: float
    charges: tuple
    """(lowest, highest) monthly charges."""
    calls_rate: float
    """Of the exponential distribution of support calls: lower means more calls."""
    base_risk: float
    per_month: float
    """Risk taken off per month of tenure."""
    per_charge: float
    typical_charges: float
    """Charges above this add risk, below it take risk off."""
    per_call: float
    per_monthly_contract: float
    per_autopay: float
    """Risk taken off by autopay."""
    per_late_payment: float


CURRENT_PLAN = Plan(
    longest_tenure=72,
    monthly_share=0.55,
    autopay_share=0.45,
    charges=(20, 120),
    calls_rate=0.7,
    base_risk=-0.4,
    per_month=0.07,
    per_charge=0.03,
    typical_charges=70,
    per_call=0.6,
    per_monthly_contract=1.6,
    per_autopay=1.0,
    per_late_payment=0.45,
)


def customer(rng, plan=CURRENT_PLAN):
    tenure = rng.randint(1, plan.longest_tenure)
    contract_monthly = 1 if rng.random() < plan.monthly_share else 0
    autopay = 1 if rng.random() < plan.autopay_share else 0
    charges = round(rng.uniform(*plan.charges), 2)
    calls = min(9, int(rng.expovariate(plan.calls_rate)))
    late = min(6, int(rng.expovariate(1.4 - 0.6 * contract_monthly)))
    risk = (
        plan.base_risk
        - plan.per_month * tenure
        + plan.per_charge * (charges - plan.typical_charges)
        + plan.per_call * calls
        + plan.per_monthly_contract * contract_monthly
        - plan.per_autopay * autopay
        + plan.per_late_payment * late
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
