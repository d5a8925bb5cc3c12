"""Another worksheet file (WORKSHEET_FILE): tests/worksheets/small.toml, "Feeling heard in therapy".

The real bot runs it in place of the built-in worksheet: its sections in the menu, /help and the
command menu, each walked through, /review and /export with its questions and answers; and a
file with a mistake stops the bot at start with exit 2 and one sentence.

Its words are read here from its own files (tests/worksheets/small/*.toml), not through the bot's
content module, so that this test process keeps the built-in worksheet for the other tests.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from conversations.worksheet.content import Html, escape, short_prompt, speaking, t
from storage import Store
from tests.botproc import BotProcess
from tests.conftest import TEST_TOKEN, BotFactory
from tests.e2e.helpers import has_data, marks, news, reply, stored, until, with_store
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

SMALL = Path(__file__).resolve().parents[1] / "worksheets" / "small.toml"
ENV = {"WORKSHEET_FILE": str(SMALL)}
TIMEOUT = 30.0
# The built-in worksheet's sections and commands, none of which this bot has.
BUILT_IN = ("learn", "checklist", "tips", "reflect", "log", "finish")
# Without a session chart there are no session reminders and no weekly summary.
FEATURES = ("review", "settings", "export", "delete")

MOMENT = "When she repeated my words back & asked if she had it right."
TOLD_HOW = "I said it at the start of a session; we changed how we begin."


def _merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


def _words() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(SMALL.with_suffix("").glob("*.toml")):
        _merge(tree, tomllib.loads(path.read_text(encoding="utf-8")))
    return tree


WORDS = _words()


def w(key: str, **values: object) -> str:
    """One of the small worksheet's own words, with its placeholders filled in."""
    node: Any = WORDS
    for part in key.split("."):
        node = node[part]
    assert isinstance(node, str), key
    return node.format(**values) if values else node


def item(section: str, item_id: str, name: str = "text") -> str:
    return w(f"{section}.items.{item_id}.{name}")


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text).strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def data_of(message: BotMessage) -> list[str]:
    return [data for row in message.buttons for _, data in row]


# The walk ------------------------------------------------------------------------------------


def start_and_agree(user: FakeUser) -> BotMessage:
    """/start shows the small worksheet's title and objective; "I agree" shows the menu."""
    welcome, privacy = news(user, lambda: user.command("start"), 2)
    assert welcome.html == t(
        "start.welcome",
        title=Html(w("worksheet.title")),
        objective=Html(w("worksheet.objective")),
    )
    menu = reply(user, lambda: user.press(t("start.agree_button"), privacy))
    assert menu.html == t("start.agreed")
    return menu


def read_the_pages(user: FakeUser, data_dir: Path) -> None:
    """/about: two pages turned in one message (no intro: it has none), then the closing."""

    def page(number: int, item_id: str) -> str:
        return f"{w('about.progress', number=number, total=2)}\n\n{item('about', item_id)}"

    first = reply(user, lambda: user.command("about"))
    assert first.html == page(1, "why")
    assert first.button_labels == [t("common.next"), t("common.not_now")]
    mark = user.mark()
    user.press("about:next:why", first)
    second = user.wait_for(lambda m: m.message_id == first.message_id, after=mark)
    assert second.html == page(2, "how")
    assert second.button_labels == [t("common.back"), t("common.done"), t("common.not_now")]
    assert stored(data_dir, user, "about.") == {}
    assert marks(data_dir, user, "about.done") == {"about.done"}
    closing = reply(user, lambda: user.press(t("common.done"), second))
    assert closing.html == w("about.closing")


def tick_the_statements(user: FakeUser, data_dir: Path) -> BotMessage:
    """/signs: two of three ticked (stored in worksheet order), Done, the follow-up, a pointer
    to the next section (returned)."""
    intro, statements = news(user, lambda: user.command("signs"), 2)
    assert intro.html == w("signs.intro")
    ids = ["interrupted", "rushed", "unsaid"]
    assert statements.html == "\n\n".join(
        [
            w("signs.how"),
            *(
                w(
                    "signs.statement",
                    number=n,
                    title=item("signs", i, "title"),
                    text=item("signs", i),
                )
                for n, i in enumerate(ids, 1)
            ),
        ]
    )
    assert data_of(statements) == [
        *(f"signs:toggle:{i}" for i in ids),
        "signs:done",
        "signs:later",
    ]

    message_id = statements.message_id
    for item_id in ("rushed", "interrupted"):
        label = w(
            "signs.chosen", number=ids.index(item_id) + 1, label=item("signs", item_id, "label")
        )

        def redrawn(m: BotMessage, label: str = label) -> bool:
            return m.message_id == message_id and label in m.button_labels

        mark = user.mark()
        user.press(f"signs:toggle:{item_id}", statements)
        statements = user.wait_for(redrawn, after=mark)
    assert statements.button_labels[:3] == [
        w("signs.chosen", number=1, label="Talked over"),
        w("signs.chosen", number=2, label="Rushed"),
        w("signs.button", number=3, label="Left unsaid"),
    ]
    assert stored(data_dir, user, "signs.") == {"signs.selected": "interrupted,rushed"}

    followup = WORDS["signs"]["followup"]
    sent = until(
        user, lambda: user.press("signs:done", statements), lambda m: m.html == w("signs.next")
    )
    ticked = "\n".join(
        [
            w("signs.ticked_item", number=1, title="Talked over"),
            w("signs.ticked_item", number=2, title="Rushed"),
        ]
    )
    assert [m.html for m in sent] == [
        w("signs.ticked", statements=ticked),
        *followup,
        w("signs.next"),
    ]
    # The pointer's button is the next section's menu button (the section has no next_button).
    assert sent[-1].buttons == [
        [(w("menu.voice"), "menu:voice")],
        [(t("common.menu"), "menu:menu")],
    ]
    assert stored(data_dir, user, "signs.") == {"signs.selected": "interrupted,rushed"}
    assert marks(data_dir, user, "signs.done") == {"signs.done"}
    return sent[-1]


def answer_the_prompts(user: FakeUser, data_dir: Path, pointer: BotMessage) -> None:
    """Speaking up, from the pointer's button: a text, Yes, the shown_if text, a rating."""
    intro, moment = news(user, lambda: user.press("menu:voice", pointer), 2)
    assert intro.html == w("voice.intro")
    assert moment.html == item("voice", "moment")  # no progress words: no heading
    assert data_of(moment) == ["voice:skip:ask.moment", "voice:later"]

    told = reply(user, lambda: user.send(MOMENT))
    assert told.html == f"<b>{item('voice', 'told', 'title')}</b>\n\n{item('voice', 'told')}"
    assert told.buttons[0] == [
        (t("common.yes"), "voice:pick:told:yes"),
        (t("common.no"), "voice:pick:told:no"),
    ]

    told_how = reply(user, lambda: user.press(t("common.yes"), told))
    assert told_how.html == item("voice", "told_how")  # asked because of the Yes

    heard = reply(user, lambda: user.send(TOLD_HOW))
    scale = item("voice", "heard", "scale")
    assert heard.html == f"{item('voice', 'heard')}\n\n<i>{scale}</i>"
    assert data_of(heard)[:10] == [f"voice:rate:heard:{n}" for n in range(1, 11)]

    done = reply(user, lambda: user.press("8", heard))
    assert done.html == w("voice.done")  # the section's own words, not common.prompts.done
    assert stored(data_dir, user, "voice.") == {
        "voice.moment": MOMENT,
        "voice.told": "yes",
        "voice.told_how": TOLD_HOW,
        "voice.heard": "8",
    }


def review_everything(user: FakeUser) -> None:
    """/review: a line and a view per section, with what was read, ticked and answered."""
    overview = reply(user, lambda: user.command("review"))
    lines = [
        t("review.line", label=Html(w("menu.about")), status=t("review.status.read")),
        t(
            "review.line",
            label=Html(w("menu.signs")),
            status=t("review.status.checked", count=2, total=3),
        ),
        t(
            "review.line",
            label=Html(w("menu.voice")),
            status=t("review.status.answered", answered=4, total=4),
        ),
    ]
    assert overview.html == "\n\n".join([t("review.title"), "\n".join(lines)])
    assert data_of(overview) == [
        "review:view:about",
        "review:view:signs",
        "review:view:voice",
        "menu:menu",
    ]

    def view(section: str) -> str:
        sent = until(user, lambda: user.press(f"review:view:{section}"), has_data("review:home"))
        return "\n\n".join(m.html or "" for m in sent)

    assert view("about") == t("review.pages.read", name=Html(w("menu.about")))
    chosen = Html("\n".join(t("review.toggles.item", title=x) for x in ("Talked over", "Rushed")))
    assert view("signs") == t(
        "review.toggles.chosen", name=Html(w("menu.signs")), statements=chosen
    )
    told = item("voice", "told")
    blocks = [
        t("review.prompts.title", name=Html(w("menu.voice"))),
        t(
            "review.answer",
            number="1",
            prompt=short_prompt(item("voice", "moment")),
            answer=escape(MOMENT),
        ),
        t("review.answer", number="2a", prompt=told, answer=t("common.yes")),
        t(
            "review.answer",
            number="2b",
            prompt=f"{told} {item('voice', 'told_how')}",  # read with the question before it
            answer=escape(TOLD_HOW),
        ),
        t(
            "review.answer",
            number="3",
            prompt=item("voice", "heard"),
            answer=t("review.rating", value="8"),
        ),
    ]
    assert view("voice") == "\n\n".join(blocks)


def test_the_second_worksheet_runs_in_place_of_the_built_in_one(
    bot_factory: BotFactory, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    bot: BotProcess = bot_factory(ENV).start().wait_ready()
    menu = start_and_agree(user)
    sections = ["about", "signs", "voice"]
    assert data_of(menu) == [f"menu:{name}" for name in [*sections, *FEATURES, "crisis"]]
    assert menu.button_labels[:3] == [w(f"menu.{name}") for name in sections]

    # The phone's command menu and /help: its commands, not the built-in ones.
    fake.wait_for_request("setChatMenuButton")
    commands = ["about", "signs", "speak_up"]
    private = {"type": "all_private_chats"}
    listed = [c["command"] for c in fake.commands(private)]
    assert listed == [
        *("start", "crisis", "menu"),
        *commands,
        *FEATURES,
        *("language", "privacy", "cancel", "help"),
    ]
    descriptions = {c["command"]: c["description"] for c in fake.commands(private)}
    assert [descriptions[c] for c in commands] == [w(f"commands.{c}") for c in commands]
    help_text = reply(user, lambda: user.command("help")).html or ""
    for command in commands:
        line = t("help.line", command=command, text=Html(w(f"help.commands.{command}")))
        assert line in help_text
    assert not any(f"/{name} " in help_text for name in BUILT_IN)
    assert reply(user, lambda: user.command("reflect")).html == t("errors.unknown_command")
    stale = user.press_data("menu:learn", menu)
    assert user.wait_callback_answer(stale).text == t("errors.stale_button")

    read_the_pages(user, data_dir)
    pointer = tick_the_statements(user, data_dir)
    answer_the_prompts(user, data_dir, pointer)
    review_everything(user)
    bot.stop()


def test_in_another_language_a_worksheet_speaks_what_it_has_and_english_for_the_rest(
    bot_factory: BotFactory, fake: FakeTelegram, data_dir: Path
) -> None:
    """The small worksheet comes in English, with one German word (tests/worksheets/small/de/):
    a German person gets the bot's own words in German, that word in German, and the rest of
    the worksheet's words in English, never a key's name."""
    bot_factory(ENV).start().wait_ready()
    lena = fake.user(1007, "Lena", language_code="de")
    with speaking("de"):
        menu = start_and_agree(lena)
        assert menu.html == t("start.agreed") != _english("start.agreed")
        labels = menu.button_labels
        assert labels[:3] == ["👂 Gehört werden", w("menu.signs"), w("menu.voice")]
        assert t("menu.review") in labels and _english("menu.review") not in labels
        assert not any("." in label and " " not in label for label in labels)  # no key names


def _english(key: str) -> str:
    with speaking("en"):
        return t(key)


# The export ----------------------------------------------------------------------------------


def test_export_holds_the_second_worksheets_questions_and_answers(
    bot_factory: BotFactory, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    bot = bot_factory(ENV).start().wait_ready()
    start_and_agree(user)
    done = ("about.done", "signs.done")
    answers = {
        "signs.selected": "interrupted,unsaid",
        "voice.moment": MOMENT,
        "voice.told": "yes",
        "voice.told_how": TOLD_HOW,
        "voice.heard": "8",
    }

    async def write(store: Store) -> None:
        async with store.unit(user.user_id) as unit:
            for key, value in answers.items():
                await unit.save_answer(key, value)
            for key in done:
                await unit.mark(key)

    with_store(data_dir, write)

    sent = until(
        user, lambda: user.command("export"), lambda m: m.html == t("export.after"), TIMEOUT
    )
    files = {m.document_name or "": fake.file_bytes(m) for m in sent if m.document is not None}
    assert len(files) == 3, list(files)
    raw_json = next(data for name, data in files.items() if name.endswith(".json"))
    pdf = next(data for name, data in files.items() if name.endswith(".pdf"))

    data = json.loads(raw_json)
    assert {a["key"]: a["text"] for a in data["answers"]} == answers

    text = pdf_text(pdf)
    assert squash(w("worksheet.title")) in text
    for item_id in ("moment", "told", "told_how", "heard"):
        assert squash(item("voice", item_id)) in text, item_id
    assert squash(MOMENT) in text and squash(TOLD_HOW) in text
    for item_id in ("interrupted", "rushed", "unsaid"):
        assert item("signs", item_id, "title").rstrip(".") in text, item_id
    # Nothing of the built-in worksheet's sections.
    assert "What does trust mean to you?" not in text
    assert "Limited Disclosure" not in text
    bot.stop()


# A worksheet file with a mistake -------------------------------------------------------------


def test_a_worksheet_file_with_a_mistake_stops_the_bot_with_one_sentence(
    run_bot_cli: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            '{ id = "unsaid", kind = "toggle" }', '{ id = "unsaid", kind = "text" }'
        ),
        encoding="utf-8",
    )
    assert broken.read_text(encoding="utf-8") != SMALL.read_text(encoding="utf-8")
    shutil.copytree(SMALL.with_suffix(""), tmp_path / "broken")
    env = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        # Nothing listens here: a bot that got past the check could not reach anyone.
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "DATA_DIR": str(tmp_path / "data"),
    }
    result = run_bot_cli([], {**env, "WORKSHEET_FILE": str(broken)})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    sentence = 'item "signs.unsaid": a toggles section cannot hold a "text".'
    assert result.stderr.strip().splitlines() == [f"error: {broken}: {sentence}"]
