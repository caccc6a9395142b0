"""Check what envs/<env>/<service>/ now serves; if it is unhealthy, put the previous one back.

- the shorturl package must be a readable archive holding the service module;
- a churn model must score an AUC of at least AUC_FLOOR on the holdout set it was evaluated on
  (the prod gate `metric:auc >= 0.80` stops weaker models unless someone forces them).
"""

import json
import os
import sys
import tarfile

AUC_FLOOR = 0.7


def check_package(path):
    with tarfile.open(path) as archive:
        names = archive.getnames()
    if not any(name.endswith("shorturl/service.py") for name in names):
        return False, "the archive holds no shorturl/service.py"
    return True, f"package ok ({len(names)} files)"


def check_model(path):
    with open(path, encoding="utf-8") as handle:
        model = json.load(handle)
    auc = model.get("metrics", {}).get("auc")
    if auc is None:
        return False, "the model has no auc"
    if auc < AUC_FLOOR:
        return False, f"auc {auc:.4f} is below the floor {AUC_FLOOR}"
    return True, f"auc {auc:.4f} (floor {AUC_FLOOR})"


def restore(target):
    """Undo the deploy: the environment serves its previous artifact again."""
    for name in ("artifact", "current.json"):
        path = os.path.join(target, name)
        if os.path.exists(path + ".previous"):
            os.replace(path + ".previous", path)
        elif os.path.exists(path):
            os.remove(path)


def main():
    service = os.environ["SHIPDECK_SERVICE"]
    env = os.environ["SHIPDECK_ENV"]
    revision = os.environ["SHIPDECK_REVISION"]
    target = os.path.join("envs", env, service)
    path = os.path.join(target, "artifact")
    try:
        healthy, detail = check_package(path) if tarfile.is_tarfile(path) else check_model(path)
    except (OSError, ValueError, tarfile.TarError) as error:
        healthy, detail = False, f"cannot read {path}: {error}"
    if healthy:
        print(f"{env} serves {service} {revision}: {detail}")
        return 0
    print(f"{env} is unhealthy with {service} {revision}: {detail}", file=sys.stderr)
    restore(target)
    previous = os.environ.get("SHIPDECK_PREVIOUS_REVISION") or "nothing"
    print(f"restored {previous} in {env}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
