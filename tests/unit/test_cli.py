"""Every command and subcommand answers --help."""

import pytest
from typer.testing import CliRunner

from lingodex.cli import app

COMMANDS = [[], ["demo"], ["status"], ["worker"], ["pipelines"], ["pipelines", "push"], ["config"], ["config", "show"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "lingodex")
def test_help_is_available(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_config_show_prints_effective_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGODEX_OPENSEARCH__URL", "https://cluster.example:9200")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "https://cluster.example:9200" in result.output
