"""A failing command prints one line saying what failed and what to do, and exits non-zero; --debug shows the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingodex.settings import Settings
from tests.catalogs import write_catalog


def lingodex(settings: Settings, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LINGODEX_HOME": str(tmp_path / "home"), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
                   "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir), **env}
    return subprocess.run([sys.executable, "-m", "lingodex.cli", *args], env=environment, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], done.stderr  # a first run may log the model export before
    return errors[0]


def test_an_unreachable_node_is_one_line_naming_the_url_without_its_password(settings: Settings, tmp_path: Path) -> None:
    line = one_error_line(lingodex(settings, tmp_path, "status",
                                   LINGODEX_OPENSEARCH__URL="http://lingodex:s3cret@127.0.0.1:9"))
    assert "cannot reach OpenSearch at http://lingodex:***@127.0.0.1:9" in line and "s3cret" not in line


def test_a_missing_index_is_one_line(settings: Settings, tmp_path: Path) -> None:
    line = one_error_line(lingodex(settings, tmp_path, "search", "kettle", "--index", "test-no-such-index"))
    assert "no such index [test-no-such-index]" in line


def test_an_invalid_index_name_is_one_line_and_creates_nothing(settings: Settings, tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl", 3)
    line = one_error_line(lingodex(settings, tmp_path, "ingest", str(tmp_path / "catalog.jsonl"), "--index",
                                   "Upper-Case", "--no-start-workers"))
    assert "must be lowercase" in line


@pytest.mark.parametrize("option", [["--k", "-1"], ["--from", "-5"]])
def test_a_negative_k_or_from_is_one_line(settings: Settings, tmp_path: Path, option: list[str]) -> None:
    assert "--k must be at least 1 and --from at least 0" in one_error_line(
        lingodex(settings, tmp_path, "search", "kettle", *option))


@pytest.mark.parametrize("bound", ["nan..1", "1..inf", "1e999"])
def test_a_non_finite_price_filter_is_one_line(settings: Settings, tmp_path: Path, bound: str) -> None:
    assert "price bounds must be finite" in one_error_line(
        lingodex(settings, tmp_path, "search", "kettle", "--filter", f"price={bound}"))


def test_a_typo_in_a_nested_setting_is_refused_with_its_path(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text("opensearch:\n  pasword: hunter2\nencoder:\n  precison: fp32\n")
    line = one_error_line(lingodex(settings, tmp_path, "--config", str(tmp_path / "typo.yaml"), "status"))
    assert "opensearch.pasword" in line and "encoder.precison" in line and "hunter2" not in line
    assert "did you mean opensearch.password?" in line and "did you mean encoder.precision?" in line


def test_debug_shows_the_traceback(settings: Settings, tmp_path: Path) -> None:
    done = lingodex(settings, tmp_path, "--debug", "status", LINGODEX_OPENSEARCH__URL="http://127.0.0.1:9")
    assert done.returncode != 0 and "Traceback" in done.stderr + done.stdout


def test_a_locale_that_is_not_a_language_tag_is_one_line(settings: Settings, tmp_path: Path) -> None:
    line = one_error_line(lingodex(settings, tmp_path, "search", "kettle", "--locale", "pt_BR!"))
    assert "--locale 'pt_BR!' is not a language tag" in line
