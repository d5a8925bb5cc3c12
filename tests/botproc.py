"""Run the real bot (`python -m bot`) as a subprocess against the fake Telegram server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from tests.databases import sqlite_url
from tests.fake_telegram import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parents[1]
BOT_COMMAND = (sys.executable, "-m", "bot")
# Settings the bot reads; inherited values are dropped so a developer's shell can't leak in.
BOT_SETTINGS_VARS = frozenset(
    {
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "TELEGRAM_API_FILE_URL",
        "DATA_DIR",
        "DATABASE_URL",
        "ENCRYPTION_KEY",
        "ENCRYPTION_KEY_FILE",
        "LOG_LEVEL",
        "CONSENT_VERSION",
        "CRISIS_TEXT_FILE",
        "WORKSHEET_FILE",
        "MAX_CONCURRENT_UPDATES",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_LISTEN",
        "WEBHOOK_PORT",
    }
)
STOP_TIMEOUT = 15.0


def base_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Inherited environment without bot settings, plus extra (None values remove a key)."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in BOT_SETTINGS_VARS}
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_bot_cli(
    args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    *,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` to completion (for start-up failures); output is captured."""
    command = [*BOT_COMMAND, *args]
    try:
        return subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=base_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout) + _text(exc.stderr)
        raise AssertionError(f"{command} still running after {timeout}s; output:\n{out}") from None


def _text(data: str | bytes | None) -> str:
    """Decode captured output of a timed-out process."""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


class BotProcess:
    """The bot as a child process pointed at a FakeTelegram; logs go to <data_dir>/../bot.log.

    With a database_url the bot gets it as DATABASE_URL; without one it uses its default SQLite
    file in data_dir.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        data_dir: Path,
        env_extra: Mapping[str, str | None] | None = None,
        *,
        command: Sequence[str] = BOT_COMMAND,
        database_url: str | None = None,
    ) -> None:
        """Prepare (but do not start) the process."""
        self.fake = fake
        self.data_dir = Path(data_dir)
        self.env_extra = dict(env_extra or {})
        self._database_url = database_url
        self.command = list(command)
        self.log_path = self.data_dir.parent / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._requests_at_start = 0
        self.starts = 0

    def env(self) -> dict[str, str]:
        """Environment given to the bot."""
        return base_env(
            {
                "TELEGRAM_BOT_TOKEN": self.fake.token,
                "TELEGRAM_API_BASE_URL": self.fake.base_url,
                "TELEGRAM_API_FILE_URL": self.fake.file_url,
                "DATA_DIR": str(self.data_dir),
                "LOG_LEVEL": "DEBUG",
                **({"DATABASE_URL": self._database_url} if self._database_url else {}),
                **self.env_extra,
            }
        )

    @property
    def database_url(self) -> str:
        """The database this bot uses (a DATABASE_URL in env_extra wins)."""
        return self.env_extra.get("DATABASE_URL") or self._database_url or sqlite_url(self.data_dir)

    def start(self) -> BotProcess:
        """Start the bot (appending its output to the log file)."""
        if self.running:
            raise RuntimeError("bot process already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log_file = self.log_path.open("ab")
        self.starts += 1
        stamp = time.strftime("%H:%M:%S")
        self._log_file.write(f"\n===== bot start #{self.starts} at {stamp} =====\n".encode())
        self._log_file.flush()
        self._requests_at_start = self.fake.request_count()
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> BotProcess:
        """Wait until this run of the bot polls, or (WEBHOOK_URL set) serves its webhook."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._webhook_ready() if self.webhook_url else self._polled_since_start():
                return self
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.returncode}:\n{self.logs()[-4000:]}")
            time.sleep(0.05)
        state = "serving its webhook" if self.webhook_url else "polling"
        raise AssertionError(f"bot not {state} after {timeout}s:\n{self.logs()[-4000:]}")

    @property
    def webhook_url(self) -> str | None:
        """The WEBHOOK_URL given to the bot, if any."""
        return self.env_extra.get("WEBHOOK_URL") or None

    @property
    def webhook_address(self) -> tuple[str, int]:
        """Where the bot's webhook server can be reached (from WEBHOOK_LISTEN/WEBHOOK_PORT)."""
        listen = self.env_extra.get("WEBHOOK_LISTEN") or "0.0.0.0"
        port = self.env_extra.get("WEBHOOK_PORT") or "8080"
        return ("127.0.0.1" if listen in ("0.0.0.0", "::") else listen), int(port)

    def _webhook_ready(self) -> bool:
        """Whether this run set its webhook and accepts connections on the webhook port."""
        recent = self.fake.requests[self._requests_at_start :]
        url = self.webhook_url
        if not any(
            r.method == "setWebhook" and r.ok and r.params.get("url") == url for r in recent
        ):
            return False
        try:
            with socket.create_connection(self.webhook_address, timeout=1.0):
                return True
        except OSError:
            return False

    def _polled_since_start(self) -> bool:
        """Whether getUpdates was called since the last start()."""
        recent = self.fake.requests[self._requests_at_start :]
        return any(r.method == "getUpdates" for r in recent)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait up to timeout, then SIGKILL; returns the exit code."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        self._close_log()
        return self.returncode

    def kill(self) -> int | None:
        """SIGKILL (a crash) and wait; returns the exit code."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(STOP_TIMEOUT)
        self._close_log()
        return self.returncode

    def restart(self, *, wait: bool = True, timeout: float = 30.0) -> BotProcess:
        """Graceful stop followed by start (and wait_ready unless wait=False)."""
        self.stop()
        self.start()
        return self.wait_ready(timeout) if wait else self

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the bot to exit on its own; returns the exit code."""
        if self.process is None:
            raise RuntimeError("bot process was never started")
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            message = f"bot still running after {timeout}s:\n{self.logs()[-4000:]}"
            raise AssertionError(message) from None
        self._close_log()
        return code

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the current run."""
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        """Exit code of the last run (None while running or never started)."""
        return self.process.poll() if self.process else None

    def logs(self) -> str:
        """Everything the bot printed so far (all runs)."""
        if self._log_file is not None:
            self._log_file.flush()
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _close_log(self) -> None:
        """Close our handle on the log file."""
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
