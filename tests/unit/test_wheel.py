"""What `pip install lingodex` puts on a machine: one top-level package, and every file the code reads.

The folders stay at the repository root (the design card's layout); `lingodex/` links them in as
`lingodex.encoder`, `lingodex.ingest`, … so the wheel holds them under `lingodex/` only. The wheel is
built and installed into a fresh virtual environment, as a user would (`pip install .`, no dependencies).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINKED = ("encoder", "ingest", "search_templates", "workers")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the tracked files: setuptools' build/ in a checkout can hold modules since removed."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for path in _tracked("."):
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, source / path, follow_symlinks=False)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=600)
    (built,) = out.glob("lingodex-*.whl")
    return built


def _tracked(folder: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPO, check=True, capture_output=True, text=True)
    return listed.stdout.split()


def test_installing_the_wheel_adds_only_lingodex_to_site_packages(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    (record,) = venv.glob("lib/python*/site-packages/lingodex-*.dist-info/RECORD")
    installed = {line.split(",")[0] for line in record.read_text(encoding="utf-8").splitlines()}
    top_level = {path.split("/")[0] for path in installed if not path.startswith("../")}
    assert top_level == {"lingodex", record.parent.name}


def test_the_wheel_carries_every_file_of_the_linked_packages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"lingodex/{path}" for folder in LINKED for path in _tracked(folder)}
    expected |= {path for path in _tracked("lingodex") if not (REPO / path).is_symlink()}
    assert sorted(expected - names) == []
