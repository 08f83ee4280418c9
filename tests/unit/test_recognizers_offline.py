"""A fresh process builds the analyzer and finds e-mail addresses and URLs without opening a socket.

Presidio's EmailRecognizer uses tldextract, whose default extractor fetches the Public Suffix List over
HTTPS on first use. The subprocess refuses every connection and DNS lookup and records the attempts;
the control at the end shows that the default extractor would have tried, so the guard is real.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, deid_env

SCRIPT = """
import logging, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[1:] or args)
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.getaddrinfo = refuse
logging.basicConfig(level=logging.INFO, stream=sys.stderr)

from deid.settings import load_settings
from recognizers import build_analyzer
analyzer = build_analyzer(load_settings())
assert build_analyzer(load_settings()) is analyzer
text = "Mail lena.smit@example.nl or read https://shop.example.eu/about before user-48213 calls."
print("FOUND", sorted({r.entity_type for r in analyzer.analyze(text, language="en")}))
print("ATTEMPTS", len(attempts))
import os
print("CACHE", os.path.exists(os.path.join(os.environ["XDG_CACHE_HOME"], "python-tldextract")), flush=True)
print("CONTROL", file=sys.stderr, flush=True)
import tldextract
tldextract.extract("lena.smit@example.nl")
print("CONTROL_ATTEMPTS", len(attempts))
"""


def test_no_socket_is_opened_and_the_engine_is_logged_once(tmp_path: Path) -> None:
    env = deid_env(DEID_NLP_ENGINE="blank", HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    ours = done.stderr.partition("CONTROL")[0]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["FOUND"] == "['EMAIL_ADDRESS', 'URL', 'USER_ID']"
    assert lines["ATTEMPTS"] == "0"
    assert "Traceback" not in ours and "ConnectionError" not in ours
    assert ours.count("PERSON and LOCATION will NOT be detected") == 1
    assert lines["CACHE"] == "False"  # nor a cache file written
    # The default extractor, by contrast, reaches for the network.
    assert int(lines["CONTROL_ATTEMPTS"]) > 0
