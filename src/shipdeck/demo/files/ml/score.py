"""Score: the newest batch of the stream, scored by the churn model staging holds.

Started by the `on_change` trigger as each batch lands. The batches carry the outcome too, so
besides the predicted churn rate it reports how well the model ranks these customers
(`live_auc`): it falls once the customers change, and recovers when a retrained model reaches
staging.
"""

import glob
import json
import os

from common import accuracy, auc, metric, predict, read_rows, standardize
from stream import STREAM_DIR

MODEL = os.path.join("envs", "staging", "churn", "artifact")
CURRENT = os.path.join("envs", "staging", "churn", "current.json")


def main():
    batches = sorted(glob.glob(os.path.join(STREAM_DIR, "batch-*.csv")))
    if not batches:
        print(f"no batch in {STREAM_DIR}/ (any more): nothing to score")
        return
    path = batches[-1]
    raw, labels = read_rows(path)
    if not os.path.exists(MODEL):
        print(f"{path}: {len(raw)} customers; staging holds no churn model yet, not scored")
        metric("rows", len(raw))
        return
    with open(MODEL, encoding="utf-8") as handle:
        model = json.load(handle)
    with open(CURRENT, encoding="utf-8") as handle:
        revision = json.load(handle).get("revision", "?")
    rows = standardize(raw, model["means"], model["stds"])
    probabilities = predict(model["weights"], model["bias"], rows)
    predicted = sum(probabilities) / len(probabilities)
    live_auc = auc(probabilities, labels)
    print(
        f"{path}: {len(raw)} customers scored by churn {revision} (staging): "
        f"predicted churn {predicted:.1%}, actual {sum(labels) / len(labels):.1%}, "
        f"live auc {live_auc:.4f} (at training: {model['metrics']['auc']:.4f})"
    )
    metric("rows", len(raw))
    metric("predicted_churn", round(predicted, 4))
    metric("live_auc", round(live_auc, 6))
    metric("live_accuracy", round(accuracy(probabilities, labels), 6))


if __name__ == "__main__":
    main()
