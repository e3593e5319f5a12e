"""A stand-in for libsecret's ``secret-tool``, installed by the tests as an executable script:
``lookup`` and ``store`` over a JSON file of items ($FAKE_KEYRING), as the real tool answers
(lookup: the secret on stdout, exit 1 and silence when there is no such item; store: an item with
exactly the same attributes is replaced). Every argv is logged to $FAKE_KEYRING_LOG. Knobs:
FAKE_KEYRING_LOCKED=1 (exit 1 with the real tool's complaint), FAKE_KEYRING_HANG=<seconds>."""

import json
import os
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    with open(os.environ["FAKE_KEYRING_LOG"], "a") as log:
        log.write(json.dumps(argv) + "\n")
    if os.environ.get("FAKE_KEYRING_HANG"):
        time.sleep(float(os.environ["FAKE_KEYRING_HANG"]))
    if os.environ.get("FAKE_KEYRING_LOCKED"):
        sys.stderr.write("secret-tool: Cannot get secret of a locked object\n")
        return 1
    path = os.environ["FAKE_KEYRING"]
    items = []
    if os.path.exists(path):
        with open(path) as f:
            items = json.load(f)
    if argv[0] == "lookup":
        wanted = dict(zip(argv[1::2], argv[2::2], strict=True))
        for item in items:
            if wanted.items() <= item["attributes"].items():
                sys.stdout.write(item["secret"])
                return 0
        return 1
    if argv[0] == "store":
        label = argv[1].split("=", 1)[1]
        attributes = dict(zip(argv[2::2], argv[3::2], strict=True))
        secret = sys.stdin.read()
        items = [item for item in items if item["attributes"] != attributes]
        items.append({"label": label, "attributes": attributes, "secret": secret})
        with open(path, "w") as f:
            json.dump(items, f)
        return 0
    return 2


sys.exit(main())
