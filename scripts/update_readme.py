"""Paste `tap-genesys-outbound --about --format=markdown`'s settings table into README.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> str:
    about = subprocess.run([sys.executable, "-m", "tap_genesys_outbound.tap", "--about", "--format=markdown"],
                           capture_output=True, text=True, check=True).stdout
    table = about.split("## Settings", 1)[1].split("A full list of supported settings", 1)[0]
    return table.strip()


def with_settings(readme: str, table: str) -> str:
    return re.sub(r"(<!-- settings:start[^\n]*-->\n).*?(<!-- settings:end -->)",
                  lambda m: f"{m.group(1)}{table}\n{m.group(2)}", readme, flags=re.S)


if __name__ == "__main__":
    README.write_text(with_settings(README.read_text(), settings_table()))
