"""Stored mustache search templates render with their parameters (lang-mustache).

Strings go in as "{{text}}" (mustache JSON-escapes them); vectors and objects go
in with {{#toJson}}...{{/toJson}}. toJson on a *string* emits it raw, unquoted,
which is why the query text never uses it.
"""

import uuid

from opensearchpy import OpenSearch

TEMPLATE = (
    '{"size": {{size}}, "query": {"bool": {'
    '"must": {"match": {"title.en": "{{text}}"}}, '
    '"filter": {"knn": {"embedding": {"vector": {{#toJson}}vector{{/toJson}}, "k": 5}}}}}}'
)


def test_stored_template_renders_text_escaped_and_vector_as_json(client: OpenSearch) -> None:
    template_id = f"test-template-{uuid.uuid4().hex[:6]}"
    client.put_script(id=template_id, body={"script": {"lang": "mustache", "source": TEMPLATE}})
    try:
        text = 'say "hi" \\ {{not a tag}} }}"'
        params = {"text": text, "size": 3, "vector": [0.25, -1.5]}
        rendered = client.render_search_template(body={"id": template_id, "params": params})["template_output"]
        assert rendered["size"] == 3
        assert rendered["query"]["bool"]["must"]["match"]["title.en"] == text
        assert rendered["query"]["bool"]["filter"]["knn"]["embedding"]["vector"] == [0.25, -1.5]
    finally:
        client.delete_script(id=template_id)
