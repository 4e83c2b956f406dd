"""Issue #16: the typed modules pass mypy with the project's configuration (setup.cfg).

Runs mypy in-process on ``foof/domain`` and ``foof/search`` exactly as
``.venv/bin/mypy foof/domain foof/search`` does, so a missing or wrong hint fails the test
run even before ``.ci/run`` calls mypy itself.
"""

import os

from mypy import api

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ("foof/domain", "foof/search")


def test_domain_and_search_type_check(monkeypatch):
    monkeypatch.chdir(ROOT)  # setup.cfg is found in, and the paths are relative to, the checkout
    stdout, stderr, status = api.run(["--config-file", "setup.cfg", *TARGETS])
    assert status == 0, f"mypy {' '.join(TARGETS)} failed:\n{stdout}{stderr}"
    assert stdout.startswith("Success: no issues found"), stdout
