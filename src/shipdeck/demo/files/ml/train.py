"""Train one logistic-regression variant (VARIANT=a|b from the task env) by gradient descent.

Prints the training loss of every epoch as `::metric loss=<value> step=<epoch>` and writes
out/model_<variant>.json with the final weights and the weights after each epoch.

With the param flaky=true, variant b simulates a transient failure: its checkpoint upload
"loses the connection" the first time. The failure leaves a marker file behind, so the next
attempt (a rerun of the failed task) succeeds, like a retried network call would.
"""

import os
import sys

from common import (
    DATA_DIR,
    OUT_DIR,
    fail,
    flag_param,
    float_param,
    int_param,
    log_loss,
    metric,
    predict,
    read_json,
    read_rows,
    standardize,
    write_json,
)

FLAKY_MARKER = os.path.join(OUT_DIR, "flaky", "train_b.failed-once")
FAIL_AT_EPOCH = 12


def gradient_step(weights, bias, rows, labels, lr):
    probabilities = predict(weights, bias, rows)
    grad_w = [0.0] * len(weights)
    grad_b = 0.0
    for row, p, y in zip(rows, probabilities, labels):
        error = p - y
        grad_b += error
        for i, x in enumerate(row):
            grad_w[i] += error * x
    n = len(rows)
    weights = [w - lr * g / n for w, g in zip(weights, grad_w)]
    return weights, bias - lr * grad_b / n


def transient_upload_failure(variant, epoch):
    """True when this attempt should fail (see the module docstring)."""
    if variant != "b":
        return False
    if not flag_param("flaky"):
        if os.path.exists(FLAKY_MARKER):
            os.remove(FLAKY_MARKER)
        return False
    if epoch != FAIL_AT_EPOCH:
        return False
    if os.path.exists(FLAKY_MARKER):
        os.remove(FLAKY_MARKER)
        print("checkpoint upload: ok (after an earlier failed attempt)")
        return False
    os.makedirs(os.path.dirname(FLAKY_MARKER), exist_ok=True)
    with open(FLAKY_MARKER, "w", encoding="utf-8") as handle:
        handle.write("train_b failed once; the next attempt succeeds\n")
    return True


def main():
    variant = os.environ.get("VARIANT", "a")
    if variant not in ("a", "b"):
        fail(f"VARIANT={variant!r}: expected a or b")
    lr = float_param(f"lr_{variant}", 0.1, 0.0, 10.0)
    epochs = int_param("epochs", 30, 1, 10_000)
    meta = read_json(os.path.join(DATA_DIR, "meta.json"))
    raw, labels = read_rows(os.path.join(DATA_DIR, "train.csv"))
    rows = standardize(raw, meta["means"], meta["stds"])
    weights, bias = [0.0] * len(meta["features"]), 0.0
    history = []
    print(f"variant {variant}: lr={lr}, {epochs} epochs, {len(rows)} rows", flush=True)
    for epoch in range(1, epochs + 1):
        weights, bias = gradient_step(weights, bias, rows, labels, lr)
        loss = log_loss(predict(weights, bias, rows), labels)
        history.append({"epoch": epoch, "weights": weights, "bias": bias, "loss": loss})
        metric("loss", round(loss, 6), step=epoch)
        if transient_upload_failure(variant, epoch):
            print(f"epoch {epoch}: uploading checkpoint to artifact-store:9000", flush=True)
            print(
                f"error: checkpoint upload failed: PUT /checkpoints/churn-b/epoch-{epoch}: "
                "ConnectionResetError: [Errno 104] Connection reset by peer\n"
                "(simulated transient failure, param flaky=true: rerun the failed task)",
                file=sys.stderr,
                flush=True,
            )
            sys.exit(1)
    model = {
        "variant": variant,
        "lr": lr,
        "epochs": epochs,
        "seed": meta["seed"],
        "features": meta["features"],
        "means": meta["means"],
        "stds": meta["stds"],
        "weights": weights,
        "bias": bias,
        "history": history,
    }
    write_json(os.path.join(OUT_DIR, f"model_{variant}.json"), model)
    print(f"final training loss {history[-1]['loss']:.4f} -> {OUT_DIR}/model_{variant}.json")


if __name__ == "__main__":
    main()
