"""Regenerate README.md's generated tables from the code that defines them.

* settings: `tap-genesys-outbound --about --format=markdown`;
* attempt statuses: `attempt_mapping.STATUS_DESCRIPTIONS`;
* attempt quality flags: `attempt_mapping.QUALITY_FLAGS`.

Each table sits between `<!-- NAME:start … -->` and `<!-- NAME:end -->`; tests/test_readme.py
fails when the README differs from what this script writes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tap_genesys_outbound.attempt_mapping import QUALITY_FLAGS, STATUS_DESCRIPTIONS

README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> str:
    about = subprocess.run([sys.executable, "-m", "tap_genesys_outbound.tap", "--about", "--format=markdown"],
                           capture_output=True, text=True, check=True).stdout
    table = about.split("## Settings", 1)[1].split("A full list of supported settings", 1)[0]
    return table.strip()


def markdown_table(header: tuple[str, str], rows: dict[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| `{key}` | {text} |" for key, text in rows.items()]
    return "\n".join(lines)


def with_block(readme: str, name: str, content: str) -> str:
    return re.sub(rf"(<!-- {name}:start[^\n]*-->\n).*?(<!-- {name}:end -->)",
                  lambda m: f"{m.group(1)}{content}\n{m.group(2)}", readme, flags=re.S)


def with_settings(readme: str, table: str) -> str:
    return with_block(readme, "settings", table)


def regenerated(readme: str) -> str:
    readme = with_settings(readme, settings_table())
    readme = with_block(readme, "statuses", markdown_table(("status", "meaning"), STATUS_DESCRIPTIONS))
    return with_block(readme, "quality-flags", markdown_table(("flag", "meaning"), QUALITY_FLAGS))


if __name__ == "__main__":
    README.write_text(regenerated(README.read_text()))
