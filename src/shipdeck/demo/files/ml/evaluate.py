"""Evaluate both variants on the validation set and keep the better one as out/model.json.

Reports its metrics as JSON lines in $SHIPDECK_METRICS (the other way tasks can report):
auc_a, auc_b, accuracy_a, accuracy_b, then auc and accuracy of the chosen model, and its
validation loss after every epoch as `val_loss` with step = epoch.
"""

import os

from common import (
    DATA_DIR,
    OUT_DIR,
    accuracy,
    auc,
    log_loss,
    metric_lines,
    predict,
    read_json,
    read_rows,
    standardize,
    write_json,
)


def score(model, rows, labels):
    probabilities = predict(model["weights"], model["bias"], rows)
    val_losses = [
        log_loss(predict(h["weights"], h["bias"], rows), labels) for h in model["history"]
    ]
    return {
        "auc": auc(probabilities, labels),
        "accuracy": accuracy(probabilities, labels),
        "val_loss": val_losses[-1],
        "val_loss_by_epoch": val_losses,
    }


def main():
    meta = read_json(os.path.join(DATA_DIR, "meta.json"))
    raw, labels = read_rows(os.path.join(DATA_DIR, "validation.csv"))
    rows = standardize(raw, meta["means"], meta["stds"])
    models = {v: read_json(os.path.join(OUT_DIR, f"model_{v}.json")) for v in ("a", "b")}
    scores = {v: score(model, rows, labels) for v, model in models.items()}
    for variant, result in scores.items():
        print(
            f"variant {variant} (lr={models[variant]['lr']}): auc={result['auc']:.4f} "
            f"accuracy={result['accuracy']:.4f} val_loss={result['val_loss']:.4f}"
        )
    # Higher AUC wins; on a tie, the lower validation loss.
    chosen = max(scores, key=lambda v: (scores[v]["auc"], -scores[v]["val_loss"]))
    best = scores[chosen]
    print(f"chosen: variant {chosen}")
    records = []
    for variant, result in scores.items():
        records.append({"key": f"auc_{variant}", "value": result["auc"]})
        records.append({"key": f"accuracy_{variant}", "value": result["accuracy"]})
    records.append({"auc": best["auc"], "accuracy": best["accuracy"]})
    records.extend(
        {"key": "val_loss", "value": loss, "step": epoch}
        for epoch, loss in enumerate(best["val_loss_by_epoch"], start=1)
    )
    metric_lines(records)
    model = {k: v for k, v in models[chosen].items() if k != "history"}
    model["metrics"] = {k: best[k] for k in ("auc", "accuracy", "val_loss")}
    write_json(os.path.join(OUT_DIR, "model.json"), model)
    write_json(
        os.path.join(OUT_DIR, "evaluation.json"),
        {
            "chosen": chosen,
            "seed": meta["seed"],
            "rows_validation": len(labels),
            "variants": {
                v: {"lr": models[v]["lr"], **{k: r[k] for k in ("auc", "accuracy", "val_loss")}}
                for v, r in scores.items()
            },
        },
    )
    print(f"wrote {OUT_DIR}/model.json and {OUT_DIR}/evaluation.json")


if __name__ == "__main__":
    main()
