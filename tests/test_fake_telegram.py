"""Tests of the fake Telegram server itself, driven by PTB's real `telegram.Bot` and raw HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.botproc import BotProcess
from tests.conftest import TEST_TOKEN
from tests.fake_telegram import FakeTelegram, FakeUser

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PNG_2X3 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000308060000009db7e6"
    "3f0000000d4944415478da63f8ffff3f0300050001fe5bd1a80000000049454e44ae426082"
)
YES_NO = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Yes, please", callback_data="yes")],
        [InlineKeyboardButton("No", callback_data="no")],
    ]
)


def api(fake: FakeTelegram, method: str, **params: Any) -> dict[str, Any]:
    """Call the fake with a raw JSON request (as a bot without PTB would)."""
    response = httpx.post(f"{fake.base_url}{fake.token}/{method}", json=params, timeout=10)
    body: dict[str, Any] = response.json()
    assert body.get("error_code", 200) == response.status_code
    return body


def last_description(fake: FakeTelegram) -> str | None:
    """Description of the latest recorded call."""
    return fake.requests[-1].description


@pytest_asyncio.fixture
async def tg(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """An initialized PTB Bot talking to the fake."""
    async with Bot(TEST_TOKEN, base_url=fake.base_url, base_file_url=fake.file_url) as bot:
        yield bot


async def wait_polling(fake: FakeTelegram) -> None:
    """Wait (without blocking the loop) until a getUpdates call is pending on the fake."""
    for _ in range(500):
        if any(r.method == "getUpdates" and r.status is None for r in fake.requests):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("getUpdates never arrived")


# ----- basics ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_me_returns_the_bot_user(tg: Bot) -> None:
    me = await tg.get_me()
    assert (me.id, me.is_bot, me.username) == (424242, True, "trust_test_bot")
    assert me.can_join_groups is True


@pytest.mark.asyncio
async def test_other_token_is_unauthorized(fake: FakeTelegram) -> None:
    other = "424242:another-token-for-tests-only-abcdefghijklm"
    with pytest.raises(InvalidToken):
        async with Bot(other, base_url=fake.base_url) as bot:
            await bot.get_me()
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}{other}/getMe", timeout=10)
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_unknown_method_is_404_and_names_are_case_insensitive(fake: FakeTelegram) -> None:
    assert api(fake, "sendSomethingElse") == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert api(fake, "GETME")["result"]["username"] == "trust_test_bot"
    assert [r.method for r in fake.requests] == ["sendSomethingElse", "getMe"]


def test_params_as_json_form_and_query(fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    body = api(fake, "sendMessage", chat_id=1001, text="json", reply_markup=markup)
    assert body["result"]["reply_markup"] == markup
    form = {"chat_id": "1001", "text": "form", "reply_markup": '{"remove_keyboard": true}'}
    response = httpx.post(f"{fake.base_url}{fake.token}/sendMessage", data=form, timeout=10)
    assert response.json()["ok"] is True
    query = httpx.get(f"{fake.base_url}{fake.token}/sendMessage?chat_id=1001&text=q", timeout=10)
    assert query.json()["result"]["text"] == "q"
    assert fake.calls("sendMessage")[1].params["chat_id"] == 1001
    assert [m.text for m in user.messages()] == ["json", "form", "q"]
    assert user.messages()[1].reply_markup == {"remove_keyboard": True}


# ----- updates -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_long_poll_returns_a_user_message_and_offset_confirms(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    poll = asyncio.create_task(tg.get_updates(timeout=20))
    await wait_polling(fake)
    assert not poll.done()
    message_id = user.send("hello bot")
    updates = await poll
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert (message.message_id, message.text, message.chat.id) == (message_id, "hello bot", 1001)
    assert message.from_user is not None and message.from_user.first_name == "Ana"
    assert fake.pending_updates() == 1
    assert await tg.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert fake.pending_updates() == 0
    fake.wait_idle(timeout=1)


@pytest.mark.asyncio
async def test_get_updates_limit_and_redelivery(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.command("/start")
    user.send("one")
    user.send("two")
    first = await tg.get_updates(limit=2, timeout=0)
    assert [u.effective_message.text for u in first if u.effective_message] == ["/start", "one"]
    again = await tg.get_updates(timeout=0)
    assert len(again) == 3
    rest = await tg.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == [first[-1].update_id + 1]
    command = first[0].message
    assert command is not None and command.entities[0].type == "bot_command"
    assert command.entities[0].length == len("/start")


@pytest.mark.asyncio
async def test_empty_long_poll_times_out(tg: Bot) -> None:
    assert await tg.get_updates(timeout=1) == ()


@pytest.mark.asyncio
async def test_second_poller_terminates_the_first(tg: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(tg.get_updates(timeout=20))
    await wait_polling(fake)
    async with Bot(TEST_TOKEN, base_url=fake.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        assert await second == ()


@pytest.mark.asyncio
async def test_allowed_updates_filters_kinds(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send("keep me out")
    user.send("and me")
    await tg.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert fake.pending_updates() == 0


@pytest.mark.asyncio
async def test_webhook_blocks_polling_until_deleted(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    # Nothing listens on the discard port: deliveries fail and the update stays pending.
    await tg.set_webhook("http://127.0.0.1:9/hook")
    assert (await tg.get_webhook_info()).url == "http://127.0.0.1:9/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await tg.get_updates(timeout=0)
    user.send("pending")
    assert (await tg.get_webhook_info()).pending_update_count == 1
    assert await tg.delete_webhook(drop_pending_updates=True)
    assert fake.pending_updates() == 0
    assert await tg.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_user_media_updates_parse_in_ptb(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send_photo(PNG_2X3, caption="pic")
    user.send_sticker()
    user.send_voice(duration=4)
    user.send_document(b"doc bytes", "a.txt")
    user.share_location(52.52, 13.40)
    updates = await tg.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert len(messages) == 5
    photo, sticker, voice, document, location = messages
    assert (photo.photo[-1].width, photo.photo[-1].height, photo.caption) == (2, 3, "pic")
    assert sticker.sticker is not None and sticker.sticker.emoji == "👍"
    assert voice.voice is not None and voice.voice.to_dict()["duration"] == 4
    assert document.document is not None and document.document.file_name == "a.txt"
    assert location.location is not None and location.location.latitude == 52.52
    file = await tg.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == PNG_2X3


@pytest.mark.asyncio
async def test_user_edit_produces_edited_message(tg: Bot, user: FakeUser) -> None:
    message_id = user.send("typo")
    user.edit(message_id, "fixed")
    updates = await tg.get_updates(timeout=0)
    edited = updates[-1].edited_message
    assert edited is not None
    assert (edited.message_id, edited.text) == (message_id, "fixed")
    assert edited.edit_date is not None


def test_ids_are_shared_per_chat_and_update_ids_global(
    fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    assert user.send("a") == 1
    assert api(fake, "sendMessage", chat_id=1001, text="reply")["result"]["message_id"] == 2
    assert user.send("b") == 3
    assert user2.send("c") == 1
    body = api(fake, "getUpdates")
    assert [u["update_id"] for u in body["result"]] == [1, 2, 3]


# ----- sending and validation --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_send_message_with_html_and_keyboard(tg: Bot, user: FakeUser) -> None:
    user.command("/start")
    sent = await tg.send_message(
        1001, "<b>Hi</b> &lt;Ana&gt; &amp; <i>you</i>", parse_mode="HTML", reply_markup=YES_NO
    )
    assert sent.text == "Hi <Ana> & you"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("italic", 11, 3),
    ]
    assert sent.reply_markup == YES_NO
    assert sent.from_user is not None and sent.from_user.is_bot
    last = user.last()
    assert last.text == "Hi <Ana> & you"
    assert last.html == "<b>Hi</b> &lt;Ana&gt; &amp; <i>you</i>"
    assert last.buttons == [[("Yes, please", "yes")], [("No", "no")]]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Tom & Jerry", "Character '&' must be escaped as \"&amp;\" at byte offset 4"),
    ],
)
@pytest.mark.asyncio
async def test_bad_html_is_rejected(
    tg: Bot, fake: FakeTelegram, user: FakeUser, html: str, reason: str
) -> None:
    user.send("hi")
    with pytest.raises(BadRequest, match="parse entities"):
        await tg.send_message(1001, html, parse_mode="HTML")
    assert last_description(fake) == f"Bad Request: can't parse entities: {reason}"
    assert fake.requests[-1].status == 400
    assert user.messages() == []


@pytest.mark.asyncio
async def test_allowed_html_tags_pass(tg: Bot, user: FakeUser) -> None:
    user.send("hi")
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler>'
        '<a href="https://example.org/?a=1&amp;b=2">link</a><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
        "&#39;&#x27;&quot;"
    )
    sent = await tg.send_message(1001, html, parse_mode="HTML")
    assert sent.text == "bsieunskdptlinkcx = 1q''\""
    types = [e.type for e in sent.entities]
    assert types.count("spoiler") == 2 and "text_link" in types and "pre" in types
    pre = next(e for e in sent.entities if e.type == "pre")
    assert pre.language == "python"


@pytest.mark.asyncio
async def test_text_length_counted_after_entities_in_utf16(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.send("hi")
    assert (await tg.send_message(1001, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")).text
    assert (await tg.send_message(1001, "&lt;" * 4096, parse_mode="HTML")).text == "<" * 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await tg.send_message(1001, "a" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await tg.send_message(1001, "😀" * 2049)
    assert last_description(fake) == "Bad Request: message is too long"
    with pytest.raises(BadRequest, match="Message text is empty"):
        await tg.send_message(1001, "  \n ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await tg.send_message(1001, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await tg.send_photo(1001, PNG_2X3, caption="c" * 1025)


@pytest.mark.asyncio
async def test_callback_data_limits(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data=data)]])

    await tg.send_message(1001, "ok", reply_markup=keyboard("x" * 64))
    for bad in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await tg.send_message(1001, "bad", reply_markup=keyboard(bad))
        assert last_description(fake) == "Bad Request: BUTTON_DATA_INVALID"
    assert len(user.messages()) == 1


@pytest.mark.asyncio
async def test_unknown_chat_and_users_who_never_talked(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await tg.send_message(999, "who?")
    assert last_description(fake) == "Bad Request: chat not found"
    with pytest.raises(BadRequest, match="Chat not found"):
        await tg.send_message(1001, "Ana exists but never wrote")
    group = fake.group(-1001234567890, "Circle")
    user.send_in(group, "hello group")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await tg.send_message(1001, "private hello")
    assert (await tg.send_message(group.chat_id, "hi all")).chat.type == "supergroup"
    assert group.last().text == "hi all"
    assert (await tg.get_chat(group.chat_id)).title == "Circle"
    assert await tg.leave_chat(group.chat_id)
    with pytest.raises(Forbidden, match="not a member"):
        await tg.send_message(group.chat_id, "still here?")


@pytest.mark.asyncio
async def test_edits(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    sent = await tg.send_message(1001, "<b>Q1</b>", parse_mode="HTML", reply_markup=YES_NO)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await tg.edit_message_text(
            "<b>Q1</b>", 1001, sent.message_id, parse_mode="HTML", reply_markup=YES_NO
        )
    assert last_description(fake) == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    edited = await tg.edit_message_text("Q1 answered", 1001, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await tg.edit_message_reply_markup(1001, sent.message_id)
    await tg.edit_message_reply_markup(1001, sent.message_id, reply_markup=YES_NO)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await tg.edit_message_text("nope", 1001, 999)
    user_message = user.send("mine")
    with pytest.raises(BadRequest, match="can't be edited"):
        await tg.edit_message_text("hijack", 1001, user_message)
    current = user.last()
    assert (current.text, current.edits, current.buttons[1]) == ("Q1 answered", 2, [("No", "no")])
    history = fake.edit_history(1001, sent.message_id)
    assert [h.text for h in history] == ["Q1 answered", "Q1 answered"]
    assert history[0].reply_markup is None
    assert await tg.delete_message(1001, sent.message_id)
    assert user.messages() == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await tg.delete_message(1001, sent.message_id)


@pytest.mark.asyncio
async def test_send_document_and_photo_bytes_are_recorded(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.send("export please")
    payload = b"name,score\nAna,7\n"
    sent = await tg.send_document(
        1001, payload, filename="answers.csv", caption="<i>Your answers</i>", parse_mode="HTML"
    )
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("answers.csv", "text/csv")
    assert sent.document.file_size == len(payload)
    assert fake.file_bytes(sent) == payload
    message = user.last()
    assert (message.document, message.document_name, message.caption) == (
        payload,
        "answers.csv",
        "Your answers",
    )
    assert "<upload answers.csv" in fake.calls("sendDocument")[0].params["document"]
    photo = await tg.send_photo(1001, PNG_2X3)
    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert user.last().photo == PNG_2X3
    again = await tg.send_photo(1001, photo.photo[-1].file_id)
    assert fake.file_bytes(again) == PNG_2X3
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await tg.send_document(1001, "no-such-file-id")
    downloaded = await (await tg.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == payload


@pytest.mark.asyncio
async def test_misc_methods(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    assert await tg.send_chat_action(1001, "typing")
    assert await tg.set_my_commands([("start", "Begin"), ("help", "Help")])
    assert [c.command for c in await tg.get_my_commands()] == ["start", "help"]
    assert fake.commands() == [
        {"command": "start", "description": "Begin"},
        {"command": "help", "description": "Help"},
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await tg.set_my_commands([("Bad Command", "x")])
    assert await tg.delete_my_commands()
    assert await tg.get_my_commands() == ()
    chat = await tg.get_chat(1001)
    assert (chat.id, chat.type, chat.first_name) == (1001, "private", "Ana")
    assert await tg.log_out()
    assert await tg.close()


# ----- callbacks ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_press_produces_a_callback_query_ptb_parses(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.command("/start")
    await tg.send_message(1001, "older", reply_markup=YES_NO)
    sent = await tg.send_message(1001, "Continue?", reply_markup=YES_NO)
    first = user.press("Yes, please")
    second = user.press("yes")
    third = user.press("Ye")
    updates = await tg.get_updates(timeout=0)
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.id for q in queries] == [first, second, third]
    assert {q.data for q in queries} == {"yes"}
    query = queries[0]
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.from_user.id == 1001 and query.chat_instance
    assert await query.answer("Noted", show_alert=True)
    answer = user.wait_callback_answer(first, timeout=1)
    assert (answer.text, answer.show_alert) == ("Noted", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("twice")
    with pytest.raises(BadRequest, match="Query is too old"):
        await tg.answer_callback_query("12345")
    assert [a.text for a in user.callback_answers()] == ["Noted"]
    older = user.messages()[0]
    user.press("No", message=older)
    update = (await tg.get_updates(offset=updates[-1].update_id + 1, timeout=0))[0]
    assert update.callback_query is not None
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == older.message_id
    with pytest.raises(AssertionError, match="no inline button"):
        user.press("Maybe")
    options = [
        {"text": "Option A", "callback_data": "a"},
        {"text": "Option B", "callback_data": "b"},
    ]
    api(fake, "sendMessage", chat_id=1001, text="pick", reply_markup={"inline_keyboard": [options]})
    with pytest.raises(AssertionError, match="several buttons"):
        user.press("Option")


# ----- faults ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_injected_429_is_seen_as_retry_after(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.send("hi")
    fake.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await tg.send_message(1001, "first")
    assert raised.value.retry_after == dt.timedelta(seconds=7)
    assert fake.requests[-1].description == "Too Many Requests: retry after 7"
    assert (await tg.send_message(1001, "second")).text == "second"
    assert fake.count_429 == 1
    assert [m.text for m in user.messages()] == ["second"]


@pytest.mark.asyncio
async def test_injected_errors_by_status_and_chat(
    tg: Bot, fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    user.send("hi")
    user2.send("hi")
    fake.fail("sendMessage", 502, chat_id=1001, times=2)
    fake.fail("*", 403, "Forbidden: bot was kicked", chat_id=1002)
    with pytest.raises(Forbidden, match="bot was kicked"):
        await tg.send_message(1002, "blocked by fault")
    assert (await tg.send_message(1002, "fine now")).text == "fine now"
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await tg.send_message(1001, "gateway")
    assert (await tg.send_message(1001, "through")).text == "through"
    fake.fail("sendMessage", 500, times=None)
    with pytest.raises(NetworkError):
        await tg.send_message(1001, "boom")
    fake.reset_faults()
    assert (await tg.send_message(1001, "after reset")).text == "after reset"


@pytest.mark.asyncio
async def test_rate_limit_answers_429_and_counts(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.send("hi")
    fake.rate_limit(per_second=2)
    refused = 0
    for n in range(6):
        try:
            await tg.send_message(1001, f"burst {n}")
        except RetryAfter:
            refused += 1
    assert refused >= 1
    assert fake.count_429 == refused
    assert len(user.messages()) == 6 - refused
    assert all(
        r.description and "retry after" in r.description for r in fake.requests if r.status == 429
    )
    fake.rate_limit(None)
    await tg.send_message(1001, "unlimited again")


@pytest.mark.asyncio
async def test_block_and_unblock(tg: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    await tg.get_updates(timeout=0)
    fake.block(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await tg.send_message(1001, "hello?")
    updates = await tg.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    fake.unblock(1001)
    assert (await tg.send_message(1001, "welcome back")).text == "welcome back"


@pytest.mark.asyncio
async def test_stall_holds_one_chat_only(
    tg: Bot, fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    user.send("hi")
    user2.send("hi")
    fake.stall("sendMessage", 3.0, chat_id=1001)
    held = asyncio.create_task(tg.send_message(1001, "slow"))
    await tg.send_message(1002, "fast")
    assert [m.text for m in user2.messages()] == ["fast"]
    assert user.messages() == [] and not held.done()
    assert (await held).text == "slow"


@pytest.mark.asyncio
async def test_disconnect_before_and_after_processing(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    user.send("hi")
    fake.disconnect("sendMessage")
    with pytest.raises(NetworkError):
        await tg.send_message(1001, "lost")
    fake.disconnect("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await tg.send_message(1001, "delivered but unanswered")
    assert [m.text for m in user.messages()] == ["delivered but unanswered"]


# ----- waiting helpers (synchronous, as end-to-end tests use them) -------------------------------


def test_wait_reply_sees_new_messages_and_edits(fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    mark = user.mark()
    first = api(fake, "sendMessage", chat_id=1001, text="Working…")["result"]
    api(fake, "sendMessage", chat_id=1001, text="<b>Done</b>", parse_mode="HTML")
    assert user.wait_reply(mark).text == "Working…"
    assert [m.text for m in user.wait_replies(mark, 2)] == ["Working…", "Done"]
    mark = user.mark()
    api(fake, "editMessageText", chat_id=1001, message_id=first["message_id"], text="Ready")
    edit = user.wait_reply(mark)
    assert (edit.event, edit.message_id, edit.text, edit.edits) == ("edit", 1 + 1, "Ready", 1)
    assert user.wait_for(lambda m: m.text == "Done").html == "<b>Done</b>"
    assert user.wait_for("Ready", after=mark).event == "edit"
    user.wait_no_reply(user.mark(), seconds=0.1)


def test_wait_timeout_dumps_the_chat(fake: FakeTelegram, user: FakeUser) -> None:
    user.send("hi")
    api(
        fake,
        "sendMessage",
        chat_id=1001,
        text="Menu",
        reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
    )
    api(fake, "sendMessage", chat_id=1001, text="<b>broken", parse_mode="HTML")
    with pytest.raises(AssertionError) as failure:
        user.wait_reply(user.mark(), timeout=0.2)
    dump = str(failure.value)
    assert "'Menu'" in dump and "('Go', 'go')" in dump
    assert "can't parse entities" in dump
    with pytest.raises(AssertionError, match="not answered"):
        user.wait_callback_answer(user.press("Go"), timeout=0.2)


def test_wait_idle(fake: FakeTelegram, user: FakeUser) -> None:
    user.send("one")
    with pytest.raises(AssertionError, match="did not confirm 1 update"):
        fake.wait_idle(timeout=0.2)
    last = api(fake, "getUpdates")["result"][-1]["update_id"]
    api(fake, "getUpdates", offset=last + 1)
    fake.wait_idle(timeout=1)


# ----- webhook delivery --------------------------------------------------------------------------


class HookReceiver:
    """A bot's webhook endpoint: records each POST and answers with scripted statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    def texts(self) -> list[str]:
        """Texts (or callback data) of the updates received, in order."""
        found = []
        for _, update in self.posts:
            body = update.get("message") or update.get("callback_query") or {}
            found.append(body.get("text") or body.get("data") or "")
        return found


@pytest_asyncio.fixture
async def hook() -> AsyncIterator[HookReceiver]:
    """A webhook endpoint on a free local port, served from the test's event loop."""
    receiver = HookReceiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def eventually(probe: Callable[[], bool]) -> None:
    """Wait (without blocking the loop, which serves the webhook) until probe() is true."""
    for _ in range(1500):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("still not true after 15 s")


@pytest.mark.asyncio
async def test_webhook_gets_each_update_in_order_with_the_secret(
    tg: Bot, fake: FakeTelegram, user: FakeUser, user2: FakeUser, hook: HookReceiver
) -> None:
    user.command("/start")
    assert await tg.set_webhook(hook.url, secret_token="s3cret_-X", allowed_updates=[])
    with pytest.raises(Conflict, match="webhook is active"):
        await tg.get_updates(timeout=0)
    user.send("one")
    user2.send("other chat")
    user.send("two")
    await tg.send_message(1001, "Continue?", reply_markup=YES_NO)
    user.press("No")
    await eventually(lambda: fake.pending_updates() == 0)
    assert len(hook.posts) == 5
    mine = [
        text
        for (_, update), text in zip(hook.posts, hook.texts(), strict=True)
        if (update.get("message") or update["callback_query"])["from"]["id"] == 1001
    ]
    assert mine == ["/start", "one", "two", "no"]
    for headers, update in hook.posts:
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret_-X"
        assert Update.de_json(update, tg) is not None
    assert [d.status for d in fake.deliveries] == [200] * 5
    assert all(d.secret_sent and d.url == hook.url for d in fake.deliveries)
    assert sorted(d.update_id for d in fake.deliveries) == sorted(
        update["update_id"] for _, update in hook.posts
    )
    info = await tg.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_date) == (hook.url, 0, None)


@pytest.mark.asyncio
async def test_webhook_without_secret_sends_no_secret_header(
    tg: Bot, fake: FakeTelegram, user: FakeUser, hook: HookReceiver
) -> None:
    await tg.set_webhook(hook.url)
    user.send("plain")
    await eventually(lambda: len(hook.posts) == 1)
    assert "X-Telegram-Bot-Api-Secret-Token" not in hook.posts[0][0]
    # The fake records the delivery once the receiver has answered: wait for that too.
    await eventually(lambda: len(fake.deliveries) == 1)
    assert not fake.deliveries[0].secret_sent


@pytest.mark.asyncio
async def test_failed_delivery_is_retried_in_order_with_back_off(
    tg: Bot, fake: FakeTelegram, user: FakeUser, hook: HookReceiver
) -> None:
    hook.statuses = [500, 403, 413]
    await tg.set_webhook(hook.url, secret_token="abc")
    first = user.send("first")
    user.send("second")
    await eventually(lambda: len(hook.posts) == 1)
    info = await tg.get_webhook_info()
    assert info.pending_update_count == 2
    assert info.last_error_message is not None and "Wrong response" in info.last_error_message
    assert info.last_error_date is not None
    await eventually(lambda: fake.pending_updates() == 0)
    assert hook.texts() == ["first"] * 4 + ["second"]
    statuses = [d.status for d in fake.deliveries]
    assert statuses == [500, 403, 413, 200, 200]
    assert fake.deliveries[0].error is not None and "500" in fake.deliveries[0].error
    first_id = fake.deliveries[0].update_id
    assert [d.update_id for d in fake.deliveries] == [first_id] * 4 + [first_id + 1]
    assert hook.posts[0][1]["message"]["message_id"] == first
    gaps = [b.time - a.time for a, b in itertools.pairwise(fake.deliveries[:4])]
    assert all(gap >= 0.15 for gap in gaps), gaps


@pytest.mark.asyncio
async def test_unreachable_webhook_keeps_updates_for_get_updates_after_delete(
    tg: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    await tg.set_webhook(f"http://127.0.0.1:{closed_port}/hook")
    user.send("kept")
    await eventually(lambda: len(fake.deliveries) >= 2)
    failed = fake.deliveries[0]
    assert failed.status is None and failed.error and not failed.ok
    info = await tg.get_webhook_info()
    assert info.pending_update_count == 1 and info.last_error_message
    assert await tg.delete_webhook()
    updates = await tg.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["kept"]
    user.send("after delete")
    later = await tg.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.message.text for u in later if u.message] == ["after delete"]
    assert later[0].update_id not in {d.update_id for d in fake.deliveries}


@pytest.mark.asyncio
async def test_set_webhook_checks_secret_and_max_connections(tg: Bot) -> None:
    with pytest.raises(BadRequest, match="ecret token contains unallowed characters"):
        await tg.set_webhook("http://127.0.0.1:1/hook", secret_token="no spaces")
    with pytest.raises(BadRequest, match="max_connections"):
        await tg.set_webhook("http://127.0.0.1:1/hook", max_connections=0)
    assert (await tg.get_webhook_info()).url == ""


# ----- the subprocess harness --------------------------------------------------------------------

ECHO_BOT = """
import os
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

async def start(update, context):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ping", callback_data="ping")]])
    name = update.effective_user.first_name
    await update.message.reply_html(f"<b>Hello</b>, {name}", reply_markup=keyboard)

async def echo(update, context):
    await update.message.reply_text("echo: " + update.message.text)

async def pressed(update, context):
    await update.callback_query.answer("pong")
    await update.callback_query.edit_message_text("pressed " + update.callback_query.data)

app = (
    Application.builder()
    .token(os.environ["TELEGRAM_BOT_TOKEN"])
    .base_url(os.environ["TELEGRAM_API_BASE_URL"])
    .base_file_url(os.environ["TELEGRAM_API_FILE_URL"])
    .build()
)
app.add_handler(CommandHandler("start", start))
app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
app.add_handler(CallbackQueryHandler(pressed))
print("echo bot using", os.environ["DATA_DIR"], "log level", os.environ["LOG_LEVEL"])
app.run_polling()
"""


def test_bot_process_harness_with_a_stub_bot(
    fake: FakeTelegram, data_dir: Path, user: FakeUser, tmp_path: Path
) -> None:
    script = tmp_path / "echo_bot.py"
    script.write_text(ECHO_BOT)
    bot = BotProcess(fake, data_dir, command=[sys.executable, str(script)])
    try:
        bot.start().wait_ready()
        mark = user.mark()
        user.command("/start")
        hello = user.wait_reply(mark)
        assert (hello.text, hello.buttons) == ("Hello, Ana", [[("Ping", "ping")]])
        mark = user.mark()
        callback = user.press("Ping")
        assert user.wait_callback_answer(callback).text == "pong"
        assert user.wait_reply(mark).text == "pressed ping"
        bot.stop()
        assert bot.returncode == 0
        user.send("while you were away")
        bot.restart()
        assert user.wait_for("echo: while you were away").event == "new"
        fake.wait_idle()
        assert bot.kill() not in (None, 0)
        assert "echo bot using" in bot.logs() and str(data_dir) in bot.logs()
        assert bot.log_path == data_dir.parent / "bot.log"
        assert bot.logs().count("===== bot start") == 2
    finally:
        bot.stop()


def test_bot_fixture_starts_the_real_bot(request: pytest.FixtureRequest) -> None:
    if not (Path(__file__).resolve().parents[1] / "bot" / "__main__.py").exists():
        pytest.skip("the bot package is not there yet")
    bot: BotProcess = request.getfixturevalue("bot")
    fake: FakeTelegram = request.getfixturevalue("fake")
    assert bot.running
    assert {"getMe", "getUpdates"} <= {r.method for r in fake.requests}
    assert bot.stop() == 0


def test_run_bot_cli_reports_a_malformed_token(run_bot_cli: Any, tmp_path: Path) -> None:
    if not (Path(__file__).resolve().parents[1] / "bot" / "__main__.py").exists():
        pytest.skip("the bot package is not there yet")
    result = run_bot_cli([], {"TELEGRAM_BOT_TOKEN": "not-a-token", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "not-a-token" not in result.stdout + result.stderr
