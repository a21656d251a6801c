"""A password, given as a setting or inside the cluster URL, appears in no output and in no file a load leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from opensearchpy import OpenSearch

from lingodex.settings import Settings
from tests.catalogs import write_catalog

URL_SECRET, SETTING_SECRET = "url-s3cret-4711", "setting-s3cret-0815"


def test_passwords_never_reach_output_or_files(settings: Settings, client: OpenSearch, index_name: str,
                                               tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl", 4)
    home = tmp_path / "home"
    env = {**os.environ, "LINGODEX_HOME": str(home), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir),
           "LINGODEX_OPENSEARCH__URL": f"http://lingodex:{URL_SECRET}@127.0.0.1:9200"}
    (tmp_path / "lingodex.yaml").write_text(f"opensearch:\n  password: {SETTING_SECRET}\n")
    outputs = []
    for args in (["ingest", str(tmp_path / "catalog.jsonl"), "--index", index_name], ["config", "show"],
                 ["search", "kettle", "--index", "test-no-such-index"]):
        done = subprocess.run([sys.executable, "-m", "lingodex.cli", "--config", str(tmp_path / "lingodex.yaml"),
                               *args], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        outputs.append(done.stdout + done.stderr)
    assert client.count(index=index_name)["count"] == 4, outputs[0]
    for secret in (URL_SECRET, SETTING_SECRET):
        assert not [output for output in outputs if secret in output]
        assert not [path for path in home.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]
