"""Check a virtualenv built like the image's: the bot is installed and works outside the repo.

Run with that venv's Python, from a folder outside the repository, as .ci/check-image does:

    VENV/bin/python -I .ci/image_smoke.py REPO
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Shaped like a real token so the settings accept it; nothing here talks to Telegram.
DUMMY_TOKEN = "123456:" + "A" * 35


def check(condition: bool, what: str) -> None:
    """Say what was checked; stop at the first failure."""
    if not condition:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def bot_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with this Python, only the settings below, from the data folder."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "TELEGRAM_BOT_TOKEN": DUMMY_TOKEN,
        "DATA_DIR": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def main(repo: Path) -> None:
    """Every check, in order."""
    venv = Path(sys.prefix)
    import bot
    import conversations
    import storage

    for package in (bot, conversations, storage):
        where = Path(package.__file__ or "").resolve()
        check(where.is_relative_to(venv), f"{package.__name__} is imported from the venv")

    # Everything the bot wires in imports (matplotlib, fpdf2, asyncpg, the webhook server ...).
    import asyncpg  # noqa: F401

    import bot.app
    from conversations.files import exports

    check((exports.dejavu_dir() / "DejaVuSans.ttf").exists(), "the PDF font is there")

    from conversations.worksheet import content, current

    shipped = sorted(path.name for path in content.CONTENT_DIR.glob("*.toml"))
    expected = sorted(path.name for path in (repo / "conversations" / "content").glob("*.toml"))
    check(shipped == expected and bool(shipped), f"all {len(expected)} content files are packaged")
    check(bool(content.t("start.agree_button")), "the content loads")
    check(bool(current.worksheet().sections), "the worksheet file is packaged and loads")

    from conversations.worksheet.timezones import parse_timezone, timezone_at

    check(parse_timezone("Calcutta") == "Asia/Kolkata", "a city's other name resolves (trimmed)")
    check(parse_timezone("Springfield, Illinois") == "America/Chicago", "a small city resolves")
    check(timezone_at(52.52, 13.405) == "Europe/Berlin", "a shared location resolves")

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        result = bot_cli("--help", data_dir=data_dir)
        check(result.returncode == 0 and "health" in result.stdout, "python -m bot --help")

        result = bot_cli("health", data_dir=data_dir)
        lines = result.stdout.strip().splitlines()
        check(
            result.returncode == 1 and len(lines) == 1 and lines[0].startswith("unhealthy:"),
            f"python -m bot health without a bot: exit 1 and one line ({lines})",
        )

        from storage import Database

        database = Database(f"sqlite+aiosqlite:///{data_dir / 'bot.sqlite3'}")

        async def migrate() -> None:
            try:
                await database.migrate()
            finally:
                await database.dispose()

        asyncio.run(migrate())
        check((data_dir / "bot.sqlite3").exists(), "the packaged migrations create the schema")

        result = bot_cli("health", data_dir=data_dir)
        check(
            result.returncode == 1 and "database ok" in result.stdout,
            f"python -m bot health with a database but no bot: {result.stdout.strip()!r}",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
