# Doughnut: build the wheel in one stage, install it in a slim, non-root runtime image.
#   docker build -t doughnut .
#   docker run --env-file .env -p 3000:3000 doughnut

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md manifest.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY scheduler ./scheduler
# The wheel, installed with its dependencies into a venv that the runtime stage copies whole
# (no compiler, pip cache or sources in the final image).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/doughnut \
    && /opt/doughnut/bin/pip install --no-cache-dir /wheels/doughnut-*.whl

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/doughnut/bin:$PATH \
    DOUGHNUT_PORT=3000 \
    DOUGHNUT_METRICS_PORT=9090
RUN useradd --system --uid 10001 --home-dir /data --create-home doughnut
COPY --from=build /opt/doughnut /opt/doughnut
USER doughnut
# The default SQLite database lands here; mount a volume, or set DATABASE_URL to PostgreSQL.
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000 9090
# No curl in a slim image: the health check is Python's own urllib, against /livez.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('DOUGHNUT_PORT', '3000')}/livez\", timeout=2)"]
# SIGTERM (docker stop) finishes the requests in flight and exits 0 within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["doughnut"]
CMD ["run"]
