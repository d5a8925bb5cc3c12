"""/export builds and sends each file on its own: one that cannot be made this time is named in
a kind word, the others still go, and the log names only the error's type."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from telegram.error import Forbidden

from conversations.sections.export import ExportFile, closing, deliver, export_files
from conversations.worksheet.content import t

SECRET = "what the person wrote"
DATA = {
    "person": {"timezone": None},
    "answers": [],
    "sessions": [],
}


class Uploads:
    """What reached the chat, by file name (a stand-in for Telegram's sendDocument)."""

    def __init__(self) -> None:
        self.sent: dict[str, bytes] = {}

    async def __call__(self, content: bytes, name: str, caption: str) -> None:
        self.sent[name] = content


def broken(kind: str) -> list[ExportFile]:
    """The real files of DATA, with the one of `kind` failing as a layout error would."""

    async def fails() -> bytes:
        raise ValueError(f"The row is too high: {SECRET}")

    files = export_files(DATA, dt.date(2026, 3, 2))
    return [ExportFile(f.kind, f.name, f.caption, fails) if f.kind == kind else f for f in files]


def test_a_pdf_that_cannot_be_made_leaves_the_json_and_csv_to_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    uploads = Uploads()
    files = broken("pdf")
    with caplog.at_level(logging.WARNING):
        failed = asyncio.run(deliver(files, uploads))
    assert failed == ["pdf"]
    assert list(uploads.sent) == [files[1].name, files[2].name]
    assert uploads.sent[files[1].name].startswith(b"{")  # the JSON, whole
    assert "ValueError" in caplog.text and SECRET not in caplog.text
    words = closing(failed)
    assert words.startswith(t("export.failed", file=t("export.kinds.pdf")))
    assert t("export.after_partial") in words and t("export.after") not in words


def test_every_file_that_can_be_made_goes_and_the_closing_names_each_failure() -> None:
    uploads = Uploads()
    failed = asyncio.run(deliver(broken("json"), uploads))
    assert failed == ["json"] and len(uploads.sent) == 2
    assert closing([]) == t("export.after")
    both = closing(["pdf", "csv"])
    assert t("export.failed", file=t("export.kinds.csv")) in both


def test_a_blocked_chat_stops_the_export() -> None:
    async def blocked(content: bytes, name: str, caption: str) -> None:
        raise Forbidden("Forbidden: bot was blocked by the user")

    with pytest.raises(Forbidden):
        asyncio.run(deliver(broken("pdf"), blocked))
