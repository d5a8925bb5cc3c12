"""/crisis: always one tap away (before consent too, in /help, the privacy notice and the menu),
replaceable by the deployer; answers are stored as given, never judged."""

from __future__ import annotations

from pathlib import Path

from conversations.sections.start import help_text as help_words
from conversations.sections.start import privacy_note
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.conftest import BotFactory
from tests.e2e.helpers import begin, new_messages, news, reply, stored
from tests.fake_telegram import FakeTelegram, FakeUser

OWN_TEXT = """<b>Our practice</b>

Call us on 0123 456 789 (24 hours), or 112 in an emergency. <i>You are not alone.</i>"""


def test_crisis_works_before_consent_and_stores_nothing(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    shown = reply(user, lambda: user.command("crisis"))
    assert shown.html == t("crisis.text")
    assert "findahelpline.com" in str(shown.raw.get("entities", ""))
    help_text = reply(user, lambda: user.command("help"))
    assert help_text.html == help_words() and "/crisis" in help_text.html
    assert stored(data_dir, user) == {}


def test_the_first_run_notice_help_and_menu_lead_to_it(bot: BotProcess, user: FakeUser) -> None:
    _, privacy = news(user, lambda: user.command("start"), 2)
    assert privacy.html == privacy_note()
    assert "/crisis" in privacy.html
    agreed = reply(user, lambda: user.press(t("start.agree_button"), privacy))
    assert (t("menu.crisis"), "menu:crisis") in [b for row in agreed.buttons for b in row]
    assert "/crisis" in reply(user, lambda: user.command("help")).html
    menu = reply(user, lambda: user.command("menu"))
    shown = reply(user, lambda: user.press(t("menu.crisis"), menu))
    assert shown.html == t("crisis.text")
    # The menu stays usable after the crisis text.
    assert menu.message_id in [m.message_id for m in user.messages() if m.buttons]


def test_crisis_in_the_middle_of_a_section_keeps_every_answer(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    news(user, lambda: user.command("reflect"), 2)
    reply(user, lambda: user.send("First answer"))
    assert reply(user, lambda: user.command("crisis")).html == t("crisis.text")
    assert stored(data_dir, user) == {"reflect.q1": "First answer"}
    # Coming back offers to continue where they left off.
    assert reply(user, lambda: user.command("reflect")).html == t("reflect.resume")


def test_a_deployer_can_replace_the_text(
    bot_factory: BotFactory, user: FakeUser, tmp_path: Path
) -> None:
    own = tmp_path / "crisis.html"
    own.write_text(OWN_TEXT, encoding="utf-8")
    bot_factory({"CRISIS_TEXT_FILE": str(own)}).start().wait_ready()
    assert reply(user, lambda: user.command("crisis")).html == OWN_TEXT
    begin(user)
    menu = reply(user, lambda: user.command("menu"))
    assert reply(user, lambda: user.press(t("menu.crisis"), menu)).html == OWN_TEXT


def test_answers_are_stored_as_given_and_never_judged(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    news(user, lambda: user.command("reflect"), 2)
    words = "Some days I don't want to be here at all, and I hurt myself."
    mark = user.mark()
    following = reply(user, lambda: user.send(words))
    assert "reflect:skip:ask.q2" in str(following.buttons)
    user.fake.wait_idle()
    # Only the next question: no crisis text, no warning, nothing about what was written.
    assert [e.html for e in new_messages(user, mark)] == [following.html]
    assert stored(data_dir, user) == {"reflect.q1": words}


def test_a_deployer_can_replace_the_text_per_language(
    bot_factory: BotFactory, fake: FakeTelegram, user: FakeUser, tmp_path: Path
) -> None:
    own = tmp_path / "crisis.html"
    own.write_text(OWN_TEXT, encoding="utf-8")
    german = "Ruf die <b>112</b> an, oder unsere Praxis: 030 1234567."
    (tmp_path / "crisis.de.html").write_text(german, encoding="utf-8")
    bot_factory({"CRISIS_TEXT_FILE": str(own)}).start().wait_ready()
    lena = fake.user(1005, "Lena", language_code="de")
    ivan = fake.user(1006, "Ivan", language_code="uk")  # no Ukrainian file: the deployer's own
    assert reply(lena, lambda: lena.command("crisis")).html == german
    assert reply(ivan, lambda: ivan.command("crisis")).html == OWN_TEXT
    assert reply(user, lambda: user.command("crisis")).html == OWN_TEXT
