"""The root folders are imported by one name each, `lingodex.<folder>`.

From the repository root `import encoder` would still work, and load a second copy of every module next to
`lingodex.encoder`'s: two `EncoderError` classes, two caches. So no file of the project uses the bare names.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BARE = re.compile(r"^\s*(from|import) (encoder|ingest|search_templates|workers)\b")


def test_no_python_file_imports_a_root_folder_by_its_bare_name() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, check=True, capture_output=True, text=True)
    offenders = [f"{name}:{number}" for name in tracked.stdout.split() if not (REPO / name).is_symlink()
                 for number, line in enumerate((REPO / name).read_text(encoding="utf-8").splitlines(), start=1)
                 if BARE.match(line)]
    assert offenders == []
