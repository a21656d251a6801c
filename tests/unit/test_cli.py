"""Every command and subcommand answers --help."""

import click
import pytest
import typer
from typer.testing import CliRunner

from lingodex.cli import app


def command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # noqa: ANN001
    """All command paths of the CLI, found by walking it rather than listed by hand.

    Duck-typed: typer vendors its own click, so isinstance(click.Group) is false.
    """
    paths = [prefix]
    if hasattr(command, "list_commands"):
        context = click.Context(command)
        for name in command.list_commands(context):
            paths += command_paths(command.get_command(context, name), (*prefix, name))
    return paths


ALL_COMMANDS = command_paths(typer.main.get_command(app))


def test_the_cli_has_the_documented_commands() -> None:
    assert {("demo",), ("search",), ("eval",), ("tune",), ("templates", "push"), ("templates", "render"), ("status",), ("worker",),
            ("pipelines", "push"), ("config", "show")} <= set(ALL_COMMANDS)


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c) or "lingodex")
def test_help_is_available(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_config_show_prints_effective_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGODEX_OPENSEARCH__URL", "https://cluster.example:9200")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "https://cluster.example:9200" in result.output


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"lingodex {version('lingodex')}"


def test_the_versions_promote_and_rollback_commands_exist() -> None:
    assert {("versions",), ("promote",), ("rollback",)} <= set(ALL_COMMANDS)
