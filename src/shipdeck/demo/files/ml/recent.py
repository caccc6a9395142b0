"""Prepare for retraining: the newest `window` batches of the scoring stream, with their
outcomes, split into train and validation CSVs like prepare.py's (in $ML_DATA, data/recent/).

The batches used are named in meta.json and the log; the run records their digests too
(the task declares stream/batch-*.csv in `inputs`).
"""

import csv
import glob
import os

from common import DATA_DIR, FEATURES, LABEL, fail, int_param, metric, write_json
from prepare import VALIDATION_SHARE, column_stats, write_csv
from stream import STREAM_DIR


def read_batch(path):
    """The batch's rows as they are written (text), in the column order of prepare.py."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [[row[name] for name in [*FEATURES, LABEL]] for row in csv.DictReader(handle)]


def main():
    window = int_param("window", 2, 1, 50)
    paths = sorted(glob.glob(os.path.join(STREAM_DIR, "batch-*.csv")))[-window:]
    if not paths:
        fail(f"no batch in {STREAM_DIR}/: run the stream pipeline first")
    rows = [row for path in paths for row in read_batch(path)]
    split = int(len(rows) * (1 - VALIDATION_SHARE))
    train, validation = rows[:split], rows[split:]
    os.makedirs(DATA_DIR, exist_ok=True)
    write_csv(os.path.join(DATA_DIR, "train.csv"), train)
    write_csv(os.path.join(DATA_DIR, "validation.csv"), validation)
    means, stds = column_stats([[float(value) for value in row] for row in train])
    names = [os.path.basename(path) for path in paths]
    write_json(
        os.path.join(DATA_DIR, "meta.json"),
        {
            "seed": None,
            "batches": names,
            "rows": len(rows),
            "features": FEATURES,
            "means": means,
            "stds": stds,
        },
    )
    print(f"retraining on {', '.join(names)}: {len(train)} training rows,", end=" ")
    print(f"{len(validation)} validation rows")
    metric("rows_train", len(train))
    metric("rows_validation", len(validation))
    metric("churn_rate", round(sum(int(row[-1]) for row in rows) / len(rows), 4))


if __name__ == "__main__":
    main()
