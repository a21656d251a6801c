# OpenSearch with the plugins lingodex needs, for machines with Docker and internet.
# The official image already bundles k-NN, neural-search, ml-commons and job-scheduler.
ARG OPENSEARCH_VERSION=3.6.0
FROM opensearchproject/opensearch:${OPENSEARCH_VERSION}
RUN /usr/share/opensearch/bin/opensearch-plugin install --batch \
      analysis-icu analysis-kuromoji analysis-nori analysis-smartcn
