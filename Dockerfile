# The dr image: `dr gameday` by default (terraform/modules/gameday runs it on Fargate).
# Only the runtime dependencies: no lab, no dev tools, no terraform.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pyproject.toml README.md constraints.txt /tmp/src/
COPY dr /tmp/src/dr
RUN pip install -c /tmp/src/constraints.txt /tmp/src && rm -rf /tmp/src

RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin dr \
    && mkdir /work && chown dr /work
# dr writes its journal (.dr/) and reports under the working directory. On ECS a volume
# mounted here keeps the image's ownership only when the image declares it as a VOLUME.
VOLUME ["/work"]
WORKDIR /work
USER 10001

ENTRYPOINT ["dr"]
CMD ["gameday"]
