"""README stays true: its generated tables (settings, attempt statuses, quality flags) match the code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from update_readme import README, regenerated

pytestmark = pytest.mark.unit


def test_readme_generated_tables_match_the_code() -> None:
    readme = README.read_text()
    assert regenerated(readme) == readme, "run scripts/update_readme.py"
