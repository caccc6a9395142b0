"""Report: a markdown summary of the evaluation (out/report.md) and a JSON copy for tools."""

import os

from common import OUT_DIR, read_json, write_json


def markdown(evaluation, model):
    lines = [
        "# Churn model report",
        "",
        f"Seed {evaluation['seed']}, {evaluation['rows_validation']} validation rows.",
        "",
        "| variant | learning rate | AUC | accuracy | validation loss |",
        "|---|---|---|---|---|",
    ]
    for variant, result in sorted(evaluation["variants"].items()):
        marker = " (chosen)" if variant == evaluation["chosen"] else ""
        lines.append(
            f"| {variant}{marker} | {result['lr']} | {result['auc']:.4f} "
            f"| {result['accuracy']:.4f} | {result['val_loss']:.4f} |"
        )
    weights = ", ".join(
        f"{name} {weight:+.3f}" for name, weight in zip(model["features"], model["weights"])
    )
    lines += ["", f"Chosen model weights (standardized features): {weights}.", ""]
    return "\n".join(lines)


def main():
    evaluation = read_json(os.path.join(OUT_DIR, "evaluation.json"))
    model = read_json(os.path.join(OUT_DIR, "model.json"))
    text = markdown(evaluation, model)
    path = os.path.join(OUT_DIR, "report.md")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
    write_json(os.path.join(OUT_DIR, "report.json"), {"evaluation": evaluation, "model": model})
    print(text)
    print(f"wrote {path} and {OUT_DIR}/report.json")


if __name__ == "__main__":
    main()
