"""The outputs shown in README.md and docs/analysts.md are what the code prints today (`make docs`)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_documented_outputs_match_a_fresh_demo_database() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
        capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:] + "\n(run `make docs`)"


def test_every_generated_block_is_filled() -> None:
    """A block with no output would pass the check above and show nothing."""
    for name in ("README.md", "docs/analysts.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "-->\n<!-- /make-docs -->" not in text, name
        assert text.count("<!-- make-docs:") == text.count("<!-- /make-docs -->") >= 3
