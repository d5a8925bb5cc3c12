"""/summary pressed again while it is being made: one summary, and a kind word that it is on
its way; a different summary asked meanwhile is made all the same."""

from __future__ import annotations

from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, reply
from tests.e2e.test_summary import choose, log_session
from tests.fake_telegram import FakeTelegram, FakeUser

TIMEOUT = 60.0


def test_this_week_pressed_twice_is_made_once_and_since_i_started_still_comes(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    log_session(user, None, "boundaries", 6, 4)
    choice = choose(user)
    # The first chart's upload is held a moment, so the presses after it come while it is made.
    fake.stall("sendPhoto", 3.0, chat_id=user.chat_id)
    mark = user.mark()
    user.press("summary:week", choice)
    user.press("summary:week", choice)
    user.press("summary:history", choice)
    captions = {t("summary.chart_caption"), t("summary.history_chart_caption")}

    def both_charts() -> bool:
        return {m.caption for m in user.events(mark) if m.photo is not None} == captions

    assert fake.world.wait_until(both_charts, TIMEOUT)
    # A later message is answered after every press was handled: nothing more is on its way.
    assert reply(user, lambda: user.send("hello")).html == t("errors.not_understood")
    sent = [m for m in user.events(mark) if m.event == "new"]
    assert [m.html for m in sent].count(t("summary.busy")) == 1
    assert len([m for m in sent if m.photo is not None]) == 2
