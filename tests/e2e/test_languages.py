"""The worksheet in the person's own language: a person whose Telegram is set to German,
Spanish, Brazilian Portuguese, Russian or Ukrainian walks the whole worksheet in it (every item
reaches them in their language's words), reads it back in /review, gets the PDF in it; and anyone
can switch to English and back in /settings or with /language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conversations.worksheet.content import speaking, t
from tests.botproc import BotProcess
from tests.e2e import test_full_walk as walk
from tests.e2e.helpers import reply, with_store
from tests.e2e.test_export import documents, export, pdf_text
from tests.fake_telegram import FakeTelegram, FakeUser

# The language as the bot names its words, and as a Telegram app reports it.
LANGUAGES = [("de", "de"), ("es", "es"), ("pt_BR", "pt-br"), ("ru", "ru"), ("uk", "uk")]
# Words, not storage: once is enough, on SQLite (the PostgreSQL run has the same code path).
ONCE = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE") == "postgresql", reason="walked once, in the SQLite run"
)


@ONCE
@pytest.mark.slow
@pytest.mark.parametrize(("language", "code"), LANGUAGES)
def test_the_whole_worksheet_in_the_persons_telegram_language(
    bot: BotProcess, fake: FakeTelegram, data_dir: Path, language: str, code: str
) -> None:
    user = fake.user(1001, "Ana", language_code=code)
    with speaking(language):
        assert t("start.agree_button") != _english("start.agree_button")
        walk.walk_start(user)
        walk.walk_learn(user, data_dir)
        walk.walk_checklist(user, data_dir)
        walk.walk_tips(user, data_dir)
        walk.walk_reflect(user, data_dir)
        walk.walk_log(user, data_dir)
        walk.walk_finish(user, data_dir)

        overview = walk.review_overview(user)
        walk.review_sections(user, overview)
        walk.review_reflections(user, overview)
        walk.review_chart(user, overview)
        walk.review_finish(user, overview)

        sent = export(user, lambda: user.command("export"))
        files = documents(fake, sent)
        [pdf] = [content for name, content in files.items() if name.endswith(".pdf")]
        # A narrow table column may wrap its heading: compared without white space.
        text = pdf_text(pdf).replace(" ", "")
        for key in ("export.columns.trust", "export.columns.safety", "export.pdf.objective"):
            assert t(key).replace(" ", "") in text, key
    person = with_store(data_dir, lambda store: store.get_person(user.user_id))
    assert person is not None and person.language == language


@pytest.mark.parametrize(("language", "code"), [("de", "de"), ("uk", "uk")])
def test_switching_to_english_and_back(
    bot: BotProcess, fake: FakeTelegram, data_dir: Path, language: str, code: str
) -> None:
    user = fake.user(1001, "Ana", language_code=code)
    with speaking(language):
        walk.walk_start(user)
        asked = reply(user, lambda: user.command("language"))
        assert asked.html == t("settings.language_prompt")
        assert asked.button_labels[:6] == [
            "English",
            "Deutsch",
            "Español",
            "Português (Brasil)",
            "Русский",
            "Українська",
        ]
    with speaking("en"):
        shown = reply(user, lambda: user.press("English", asked))
        assert shown.html.startswith(t("settings.language_saved"))
        assert t("settings.language_line", language="English") in shown.html
        menu = reply(user, lambda: user.command("menu"))
        assert menu.html == t("menu.title")
    assert _stored_language(data_dir, user) == "en"
    with speaking(language):
        asked = reply(user, lambda: user.command("language"))
        assert asked.html == t("settings.language_prompt") or asked.html == _english(
            "settings.language_prompt"
        )
    native = {"de": "Deutsch", "uk": "Українська"}[language]
    with speaking(language):
        back = reply(user, lambda: user.press(native, asked))
        assert back.html.startswith(t("settings.language_saved"))
        assert reply(user, lambda: user.command("menu")).html == t("menu.title")
    assert _stored_language(data_dir, user) == language


def test_the_command_list_and_description_are_registered_in_every_language(
    bot: BotProcess, fake: FakeTelegram
) -> None:
    private = {"type": "all_private_chats"}
    for language, code in [("en", ""), *LANGUAGES]:
        telegram = code.split("-")[0]
        with speaking(language):
            listed = fake.commands(private, telegram)
            assert {c["command"]: c["description"] for c in listed}["language"] == t(
                "commands.language"
            )
            profile = fake.profile(telegram)
            assert profile["description"], language
            assert profile["short_description"], language
        if language != "en":
            assert listed != fake.commands(private, ""), "in its own words"


def _english(key: str) -> str:
    with speaking("en"):
        return t(key)


def _stored_language(data_dir: Path, user: FakeUser) -> str | None:
    person = with_store(data_dir, lambda store: store.get_person(user.user_id))
    assert person is not None
    return person.language
