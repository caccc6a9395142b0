"""Helpers shared by the ML scripts: params, metrics, CSV files and the model maths.

Pure Python on purpose: the demo must run anywhere python3 does, with nothing to install.
"""

import csv
import json
import math
import os
import sys

# Where a pipeline's data and outputs go: `train` uses data/ and out/, `retrain` (by its task
# env) data/recent/ and out/recent/, so the two never overwrite each other's files.
DATA_DIR = os.environ.get("ML_DATA", "data")
OUT_DIR = os.environ.get("ML_OUT", "out")
FEATURES = [
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "contract_monthly",
    "autopay",
    "late_payments",
]
LABEL = "churned"


def param(name, default):
    """A run param: from the JSON file shipdeck writes, else its env var, else `default`."""
    path = os.environ.get("SHIPDECK_PARAMS")
    if path:
        with open(path, encoding="utf-8") as handle:
            params = json.load(handle)
        if name in params:
            return params[name]
    return os.environ.get("SHIPDECK_PARAM_" + name.upper(), default)


def int_param(name, default, low, high):
    number = _number_param(name, default, int, "an integer")
    if not low <= number <= high:
        fail(f"param {name}={number} is outside {low}..{high}")
    return number


def float_param(name, default, low, high):
    number = _number_param(name, default, float, "a number")
    if not low < number <= high:
        fail(f"param {name}={number} is outside ({low}, {high}]")
    return number


def _number_param(name, default, convert, what):
    value = param(name, default)
    try:
        return convert(value)
    except (TypeError, ValueError):
        fail(f"param {name}={value!r} is not {what}")


def flag_param(name):
    value = param(name, False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def metric(key, value, step=None):
    """Report a metric on stdout; shipdeck parses `::metric key=value step=N` lines."""
    suffix = "" if step is None else f" step={step}"
    print(f"::metric {key}={value!r}{suffix}", flush=True)


def metric_lines(records):
    """Report metrics as JSON lines in $SHIPDECK_METRICS (stdout when run by hand)."""
    path = os.environ.get("SHIPDECK_METRICS")
    if not path:
        for record in records:
            print(f"metric {json.dumps(record, sort_keys=True)}")
        return
    with open(path, "a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, sort_keys=True) + "\n")


def fail(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        fail(f"{path} is missing: did the upstream task run?")


def read_rows(path):
    """(features, labels) from a CSV written by prepare.py."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        fail(f"{path} is missing: run the prepare task first")
    features = [[float(row[name]) for name in FEATURES] for row in rows]
    labels = [int(row[LABEL]) for row in rows]
    return features, labels


def standardize(features, means, stds):
    return [[(x - m) / s for x, m, s in zip(row, means, stds)] for row in features]


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def predict(weights, bias, rows):
    return [sigmoid(bias + sum(w * x for w, x in zip(weights, row))) for row in rows]


def log_loss(probabilities, labels):
    eps = 1e-12
    total = 0.0
    for p, y in zip(probabilities, labels):
        p = min(max(p, eps), 1.0 - eps)
        total -= y * math.log(p) + (1 - y) * math.log(1.0 - p)
    return total / len(labels)


def auc(probabilities, labels):
    """Area under the ROC curve: the chance a random churner scores above a random stayer."""
    ranked = sorted(zip(probabilities, labels))
    rank_sum = 0.0
    index = 0
    while index < len(ranked):
        end = index
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[index][0]:
            end += 1
        average_rank = (index + end) / 2 + 1
        rank_sum += average_rank * sum(label for _, label in ranked[index : end + 1])
        index = end + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def accuracy(probabilities, labels, threshold=0.5):
    hits = sum(1 for p, y in zip(probabilities, labels) if (p >= threshold) == (y == 1))
    return hits / len(labels)
