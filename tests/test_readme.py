"""README stays true: its settings table is what `--about --format=markdown` prints."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from update_readme import README, settings_table, with_settings  # noqa: E402


def test_readme_settings_table_matches_about() -> None:
    readme = README.read_text()
    assert with_settings(readme, settings_table()) == readme, "run scripts/update_readme.py"
