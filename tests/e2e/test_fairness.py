"""One person's flood of messages keeps nobody else waiting (issue 15).

Updates are confirmed to Telegram once they are in the bot's inbox, not once handled, so one
chat's queue does not hold back everyone's; each chat's updates are handled in order, and a chat
with 20 waiting has its further messages not kept, said once, kindly. How long the other person
waits is measured in bench/fairness.py; here only order and completeness are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

from conversations.worksheet.content import t
from tests import worksheet as reflect
from tests.botproc import BotProcess
from tests.e2e.helpers import WAIT, begin, handled_all, new_messages, stored
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

FLOOD = 300
CAP = 20  # bot/updates.py: updates one chat may have waiting
# Each reply to the flooding person takes this long at "Telegram": their queue drains slowly.
SLOW_SEND = 0.2


def not_kept(bot: BotProcess) -> int:
    """How many updates the bot said it did not keep (its log gives counts, never content)."""
    return sum(int(n) for n in re.findall(r"Not kept: (\d+) updates", bot.logs()))


def is_help(message: BotMessage) -> bool:
    """Whether a message is /help's answer."""
    return message.event == "new" and t("help.title") in (message.html or "")


def test_a_flood_from_one_person_does_not_hold_up_another_and_is_answered_in_order(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    """Ana sends 300 messages at once while at her first reflection; then Ben sends /help.
    Ben's answer comes before half of Ana's replies; Ana is told once that she was too fast; every
    message of hers that was kept gets exactly one reply, in order (the first ten answer the
    ten prompts, the rest get the reply to text outside a question), and each answer is stored
    once."""
    ana, ben = user, user2
    begin(ana)
    opened = ana.mark()
    ana.command("reflect")
    ana.wait_for(lambda m: m.event == "new" and m.html == reflect.prompts()[0].text, after=opened)
    fake.stall("sendMessage", SLOW_SEND, chat_id=ana.chat_id, times=None)

    mark = fake.mark()
    texts = [f"flood {n:03d}" for n in range(FLOOD)]
    for text in texts:
        ana.send(text)
    ben.command("help")
    answered = ben.wait_for(is_help, after=mark, timeout=WAIT)
    handled_all(fake, data_dir, timeout=WAIT * 2)

    dropped = not_kept(bot)
    replies = new_messages(ana, mark)
    told = [m for m in replies if m.html == t("errors.too_fast")]
    answers = [m for m in replies if m.html != t("errors.too_fast")]
    assert len(told) == 1, ana.dump()
    assert CAP <= len(answers) < FLOOD and dropped > 0
    assert len(answers) == FLOOD - dropped, (len(answers), dropped)
    # Ben's answer came before half of Ana's replies, let alone her last one.
    assert answered.seq < answers[len(answers) // 2].seq, "Ben waited for Ana's flood"
    assert [m for m in ben.events(mark) if m.event == "new"] == [answered]

    prompts = reflect.prompts()
    assert [m.html for m in answers[: len(prompts)]] == [
        *(p.text for p in prompts[1:]),
        t("reflect.done"),
    ]
    assert all(m.html == t("errors.not_understood") for m in answers[len(prompts) :])
    saved = stored(data_dir, ana, "reflect.")
    values = [saved[f"reflect.{p.key}"] for p in prompts]
    assert values[0] == texts[0]
    order = [texts.index(value) for value in values if value is not None]
    assert len(order) == len(prompts) and order == sorted(set(order)), values


def test_buttons_pressed_too_fast_each_get_one_answer_and_crisis_help_still_comes(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    """Forty presses of an out-of-date button at once: each press gets exactly one answer, the
    ones past twenty waiting a short "one moment"; /crisis sent right after them is answered
    all the same, and nobody is told about messages not kept (no message was left out)."""
    begin(user)
    fake.stall("answerCallbackQuery", SLOW_SEND, times=None)  # only this person presses
    mark = fake.mark()
    presses = [user.press_data("nothing:here") for _ in range(40)]
    user.command("crisis")
    user.wait_for(lambda m: m.event == "new" and m.html == t("crisis.text"), after=mark)
    handled_all(fake, data_dir, timeout=WAIT * 2)

    answers = [user.wait_callback_answer(press).text for press in presses]
    assert set(answers) == {t("errors.stale_button"), t("errors.one_moment")}, answers
    assert answers.count(t("errors.one_moment")) == not_kept(bot)
    assert [m.html for m in new_messages(user, mark)] == [t("crisis.text")]
