"""Mustache search templates: files in search_templates/templates/, stored as scripts on the cluster.

Teams can call them without lingodex (`_search/template` with `"id":
"lingodex-hybrid"` and the parameters README.md lists). The query text travels
as "{{query_text}}", which mustache JSON-escapes; vectors, field lists and
filter clauses travel through {{#toJson}}; nothing is concatenated into JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

TEMPLATES_DIR = Path(__file__).parent / "templates"
LEXICAL, DENSE, HYBRID = "lingodex-lexical", "lingodex-dense", "lingodex-hybrid"


def template_ids() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.mustache"))


def template_source(template_id: str) -> str:
    return (TEMPLATES_DIR / f"{template_id}.mustache").read_text(encoding="utf-8")


def push_templates(client: OpenSearch) -> dict[str, str]:
    """Store every template as a script; returns id -> "created" | "updated" | "unchanged"."""
    outcome = {}
    for template_id in template_ids():
        source = template_source(template_id)
        stored = client.get_script(id=template_id, ignore=404)
        if stored.get("found") and stored["script"]["source"] == source:
            outcome[template_id] = "unchanged"
            continue
        client.put_script(id=template_id, body={"script": {"lang": "mustache", "source": source}})
        outcome[template_id] = "updated" if stored.get("found") else "created"
    return outcome


def render(client: OpenSearch, template_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request the cluster would run (`_render/template`), for inspection and tests."""
    return client.render_search_template(body={"id": template_id, "params": params})["template_output"]
