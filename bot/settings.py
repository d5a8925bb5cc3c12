"""Settings from the environment, checked once at start-up."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")

# Telegram's rule for setWebhook's secret_token.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is missing or malformed: open Telegram, talk to @BotFather, send /newbot, "
    "and set TELEGRAM_BOT_TOKEN to the token it gives you (it looks like 123456789:AA...)."
)


class SettingsError(Exception):
    """Settings that cannot be used; the message is one sentence for the person starting the bot."""


class Settings(BaseSettings):
    """Every setting the bot reads, from the environment (or a .env file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr
    telegram_api_base_url: str | None = None
    telegram_api_file_url: str | None = None
    data_dir: Path = Path("data")
    database_url: str | None = None
    encryption_key: SecretStr | None = None
    encryption_key_file: Path | None = None
    log_level: str = "INFO"
    consent_version: str = "1"
    crisis_text_file: Path | None = None
    # Another worksheet of the same format (docs/worksheet-format.md); the built-in one if unset.
    worksheet_file: Path | None = None
    max_concurrent_updates: int = Field(default=256, ge=1, le=10_000)
    # Messages the bot sends in any second, replies and reminders together (bot/pacing.py):
    # Telegram's limit for a bot is about 30; a bot granted more (paid broadcasts) may raise it.
    messages_per_second: int = Field(default=30, ge=3, le=100_000)
    # Webhook mode (instead of long polling) when webhook_url is set.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("malformed token")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("WEBHOOK_URL must be a full address like https://bot.example.org/tg")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not SECRET_PATTERN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("WEBHOOK_SECRET must be 1-256 letters, digits, _ or -")
        return SecretStr(value.get_secret_value().strip())

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL, so that only Telegram can post "
                "updates"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: the path of WEBHOOK_URL."""
        from urllib.parse import urlsplit

        path = urlsplit(self.webhook_url or "").path
        return path if path.startswith("/") else "/" + path

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'bot.sqlite3').resolve()}"

    @property
    def default_key_file(self) -> Path:
        """Where a generated encryption key is kept when none is configured."""
        return self.data_dir / "encryption.key"


def load_settings() -> Settings:
    """Read settings, turning validation errors into one clear sentence."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        fields = {str(err["loc"][0]) for err in error.errors() if err["loc"]}
        if "telegram_bot_token" in fields:
            raise SettingsError(TOKEN_HELP) from None
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:
            raise SettingsError(f"{message}.") from None
        name = str(first["loc"][0]).upper()
        raise SettingsError(f"{name} is not valid: {message}.") from None
