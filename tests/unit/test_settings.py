"""Settings: defaults, YAML file, environment overrides, secrets."""

from pathlib import Path

import pytest

from lingodex.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LINGODEX_CONFIG", "LINGODEX_OPENSEARCH__URL", "LINGODEX_BROKER__URL", "LINGODEX_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./lingodex.yaml unless a test writes one


def test_defaults_point_at_the_local_node_and_the_embedded_broker() -> None:
    settings = load_settings()
    assert settings.opensearch.url == "http://127.0.0.1:9200"
    assert settings.broker.is_embedded


def test_yaml_file_values_are_used(tmp_path: Path) -> None:
    config = tmp_path / "custom.yaml"
    config.write_text("opensearch:\n  url: https://search.example:9200\n  username: ingest\ningest:\n  batch_size: 50\n")
    settings = load_settings(config)
    assert settings.opensearch.url == "https://search.example:9200"
    assert settings.opensearch.username == "ingest"
    assert settings.ingest.batch_size == 50


def test_environment_overrides_the_yaml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "custom.yaml"
    config.write_text("opensearch:\n  url: https://from-yaml:9200\n")
    monkeypatch.setenv("LINGODEX_OPENSEARCH__URL", "https://from-env:9200")
    assert load_settings(config).opensearch.url == "https://from-env:9200"


def test_lingodex_config_env_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text("broker:\n  url: redis://broker:6379/0\n")
    monkeypatch.setenv("LINGODEX_CONFIG", str(config))
    assert load_settings().broker.url == "redis://broker:6379/0"


def test_lingodex_yaml_in_the_working_directory_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "lingodex.yaml").write_text("encoder:\n  threads: 3\n")
    assert load_settings().encoder.threads == 3


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_settings(tmp_path / "missing.yaml")


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text("opensearch:\n  url: http://x:9200\nworkers:\n  concurrency: 2\n")
    with pytest.raises(ValueError, match="workers"):
        load_settings(config)


def test_password_is_masked_unless_revealed(tmp_path: Path) -> None:
    config = tmp_path / "secret.yaml"
    config.write_text("opensearch:\n  username: admin\n  password: s3cret\n")
    settings = load_settings(config)
    assert "s3cret" not in settings.to_yaml()
    assert "s3cret" in settings.to_yaml(reveal_secrets=True)


def test_home_is_made_absolute(tmp_path: Path) -> None:
    assert load_settings(home=Path("state")).home == tmp_path / "state"


def test_relative_paths_in_a_settings_file_are_relative_to_that_file(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "elsewhere").mkdir()
    config = tmp_path / "conf" / "lingodex.yaml"
    config.write_text("home: state\ningest: {field_mapping: shop.yaml}\nsearch: {params_file: params.yaml}\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = load_settings(Path("../conf/lingodex.yaml"))
    assert settings.home == tmp_path / "conf" / "state"
    assert settings.ingest.field_mapping == tmp_path / "conf" / "shop.yaml"
    assert settings.search.params_file == tmp_path / "conf" / "params.yaml"
    assert settings.encoder.cache_dir == tmp_path / "conf" / "state" / "models"


def test_relative_paths_from_the_environment_are_relative_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGODEX_INGEST__FIELD_MAPPING", "shop.yaml")
    assert load_settings().ingest.field_mapping == tmp_path / "shop.yaml"
