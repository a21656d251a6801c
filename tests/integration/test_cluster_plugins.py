"""The local node is the real thing: the plugins and modules lingodex relies on are loaded."""

from opensearchpy import OpenSearch

from lingodex.connection import installed_plugins

REQUIRED_PLUGINS = {
    "opensearch-knn",
    "opensearch-neural-search",
    "opensearch-ml",
    "opensearch-job-scheduler",
    "analysis-icu",
    "analysis-kuromoji",
    "analysis-smartcn",
    "analysis-nori",
}
REQUIRED_MODULES = {"analysis-common", "lang-mustache", "lang-painless", "mapper-extras", "rank-eval", "reindex"}


def test_cat_plugins_lists_the_search_and_language_plugins(client: OpenSearch) -> None:
    assert REQUIRED_PLUGINS <= installed_plugins(client)


def test_nodes_plugins_reports_the_required_modules_loaded_on_every_node(client: OpenSearch) -> None:
    nodes = client.nodes.info(metric="plugins")["nodes"].values()
    for node in nodes:
        assert REQUIRED_MODULES <= {module["name"] for module in node["modules"]}


def test_every_plugin_is_built_for_the_running_server_version(client: OpenSearch) -> None:
    server = client.info()["version"]["number"]
    nodes = client.nodes.info(metric="plugins")["nodes"].values()
    for node in nodes:
        for plugin in node["plugins"]:
            assert plugin["opensearch_version"] == server, plugin["name"]
