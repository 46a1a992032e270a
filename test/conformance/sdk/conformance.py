"""What every SDK driver shares: where the simulator is, and how steps are reported.

A driver is run by test/conformance/run-sdk.ts with SIM_URL, SIM_CA (a PEM file of the simulator's CA)
and SIM_CREDENTIALS (JSON) in its environment. Each step prints one line `@@step {json}` on stdout:
{"step", "ok": true, "result"} or {"step", "ok": false, "error", "trace"}; the first failing step ends
the run (exit 1). `checkpoint(name)` prints `@@checkpoint {"name"}` and waits for a line on stdin, so the
test can look at the simulator's state between two SDK calls.
"""

import json
import os
import sys
import traceback
from urllib.parse import urlsplit

URL = os.environ["SIM_URL"]
CA = os.environ["SIM_CA"]
CREDENTIALS = json.loads(os.environ["SIM_CREDENTIALS"])
_parts = urlsplit(URL)
HOST = _parts.hostname
PORT = _parts.port
SCHEME = _parts.scheme


def _emit(kind, payload):
    sys.stdout.write("@@%s %s\n" % (kind, json.dumps(payload, default=repr)))
    sys.stdout.flush()


def step(name, fn):
    """Runs one SDK call; reports its result, or its exception and stops the run."""
    try:
        result = fn()
    except BaseException as error:  # noqa: BLE001 - every failure is a finding
        _emit(
            "step",
            {
                "step": name,
                "ok": False,
                "error": "%s: %s" % (type(error).__name__, error),
                "trace": traceback.format_exc()[-4000:],
            },
        )
        sys.exit(1)
    _emit("step", {"step": name, "ok": True, "result": result})
    return result


def check(condition, message):
    """An expectation about what the SDK returned; a failed one fails the current step."""
    if not condition:
        raise AssertionError(message)


def checkpoint(name):
    _emit("checkpoint", {"name": name})
    line = sys.stdin.readline()
    if line.strip() != "continue":
        sys.exit(2)
