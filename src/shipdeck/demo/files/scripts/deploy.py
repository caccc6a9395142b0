"""Deploy a revision into envs/<env>/<service>/, the directory that stands in for an environment.

shipdeck gives the command SHIPDECK_SERVICE, SHIPDECK_ENV, SHIPDECK_REVISION, SHIPDECK_ARTIFACT
(the stored, read-only artifact), SHIPDECK_PREVIOUS_REVISION and SHIPDECK_ACTION. The previous
artifact is kept beside the new one so health.py can put it back if the new one is unhealthy.
"""

import hashlib
import json
import os
import shutil
import time


def main():
    service = os.environ["SHIPDECK_SERVICE"]
    env = os.environ["SHIPDECK_ENV"]
    revision = os.environ["SHIPDECK_REVISION"]
    artifact = os.environ["SHIPDECK_ARTIFACT"]
    previous = os.environ.get("SHIPDECK_PREVIOUS_REVISION") or "none"
    action = os.environ.get("SHIPDECK_ACTION", "deploy")
    target = os.path.join("envs", env, service)
    os.makedirs(target, exist_ok=True)
    current = os.path.join(target, "artifact")
    state = os.path.join(target, "current.json")
    if os.path.exists(current):
        os.replace(current, current + ".previous")
        if os.path.exists(state):
            os.replace(state, state + ".previous")
    incoming = current + ".incoming"
    shutil.copyfile(artifact, incoming)
    os.replace(incoming, current)
    with open(current, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    record = {
        "service": service,
        "revision": revision,
        "sha256": digest,
        "action": action,
        "previous": previous,
        "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with open(state, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
    print(f"{action}: {service} {previous} -> {revision} in {env} (sha256 {digest[:12]})")


if __name__ == "__main__":
    main()
