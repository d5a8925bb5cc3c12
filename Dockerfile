# A small image for the bot: dependencies in their own layer, a non-root user, data in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data

WORKDIR /app

# Dependencies first, so code changes don't reinstall them (same steps as CI: pip install .).
COPY pyproject.toml README.md ./
RUN mkdir -p bot conversations storage \
    && touch bot/__init__.py conversations/__init__.py storage/__init__.py \
    && pip install . \
    && pip uninstall -y trust-safety-bot

COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
RUN pip install --no-deps .

RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data
USER bot
VOLUME ["/data"]

CMD ["python", "-m", "bot"]
