"""Webhook mode (issue 7): the fake Telegram POSTs updates to the bot's own webhook server.

Only requests carrying the right X-Telegram-Bot-Api-Secret-Token get in: a wrong or missing one is
answered 403 from the headers alone, before the body is read, and nothing is stored. A body over
1 MB gets 413, a body that is not one JSON update 400; the bot keeps serving afterwards.
Requests that are not Telegram's are sent here directly, over a plain socket, to the bot's port.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.webhook import MAX_OPEN
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.conftest import TEST_TOKEN, BotFactory
from tests.e2e.helpers import begin, news, reply, stored, wait_news
from tests.fake_telegram import FakeTelegram, FakeUser

SECRET = "hook-Secret_4f9c2a7d1e"
PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ONE_MB = 1024 * 1024
# Update ids far above the fake's own, so a crafted update is never one the bot has handled.
CRAFTED_IDS = iter(range(900_001, 1_000_000))


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(port: int) -> dict[str, str]:
    """Settings that put the bot in webhook mode on 127.0.0.1:port."""
    return {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}{PATH}",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
    }


@pytest.fixture
def hook_bot(bot_factory: BotFactory) -> BotProcess:
    """The real bot in webhook mode: it set its webhook and its port accepts connections."""
    return bot_factory(webhook_env(free_port())).start().wait_ready()


def crafted_update(user: FakeUser, text: str) -> dict[str, Any]:
    """A real Telegram update: a text message from the person (sent by us, not by the fake)."""
    update_id = next(CRAFTED_IDS)
    chat = {"id": user.user_id, "type": "private", "first_name": user.data["first_name"]}
    message = {
        "message_id": update_id,
        "from": user.data,
        "chat": chat,
        "date": int(time.time()),
        "text": text,
    }
    return {"update_id": update_id, "message": message}


def raw_request(
    bot: BotProcess,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    method: str = "POST",
    path: str = PATH,
) -> int:
    """Send one HTTP request over a plain socket; returns the status code of the answer.

    The body is sent after the headers and may be cut short by the bot closing the connection
    (it answers some requests without reading their body). Content-Length is added unless given
    or the request is chunked. A bot that waits for a body that never comes fails the test by
    the socket's timeout.
    """
    host, port = bot.webhook_address
    fields = {"Host": f"{host}:{port}", "Connection": "close", **headers}
    if "Content-Length" not in fields and "Transfer-Encoding" not in fields and body:
        fields["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
    with socket.create_connection((host, port), timeout=15) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.startswith("HTTP/1.1 "), f"no HTTP answer: {status_line!r}"
    return int(status_line.split()[1])


def post_update(bot: BotProcess, update: dict[str, Any], secret: str | None) -> int:
    """POST an update as JSON, with this secret header (None: without one)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return raw_request(bot, headers, json.dumps(update).encode())


def at_first_question(user: FakeUser) -> None:
    """Agree, open /reflect, and stop at its first question (the next text is the answer)."""
    begin(user)
    intro, first = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro")
    assert "reflect:skip:ask.q1" in str(first.buttons)


def sends_since(fake: FakeTelegram, count: int) -> list[str]:
    """Messages, edits and answers the bot sent after request number `count`."""
    acts = ("send", "edit", "answer", "deleteMessage")
    return [r.method for r in fake.requests[count:] if r.method.startswith(acts)]


# ----- through the fake: Telegram's own deliveries --------------------------------------------


def test_a_person_walks_through_the_webhook(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    webhook = fake.calls("setWebhook")[-1].params
    assert webhook["url"] == hook_bot.webhook_url
    assert webhook["secret_token"] == SECRET
    assert "callback_query" in webhook.get("allowed_updates", [])
    at_first_question(user)
    second = reply(user, lambda: user.send("I trust her more than I did"))
    assert "reflect:skip:ask.q2" in str(second.buttons)
    fake.wait_idle()
    assert stored(data_dir, user) == {"reflect.q1": "I trust her more than I did"}
    # Every update came through the webhook, with the secret, and none by polling.
    assert fake.deliveries and all(d.ok and d.secret_sent for d in fake.deliveries)
    assert not fake.calls("getUpdates")
    assert fake.webhook["url"] == hook_bot.webhook_url


def test_a_restart_keeps_the_place_and_what_came_meanwhile(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    at_first_question(user)
    reply(user, lambda: user.send("First, before the restart"))
    fake.wait_idle()
    hook_bot.stop()
    mark, tried = user.mark(), len(fake.deliveries)
    user.send("Second, while the bot was away")
    # Telegram keeps trying; the bot's port is closed until it is back.
    fake.wait_for_delivery(after=tried, predicate=lambda d: d.status is None)
    hook_bot.start().wait_ready()
    third = user.wait_reply(mark, timeout=30)
    assert "reflect:skip:ask.q3" in str(third.buttons)
    fake.wait_idle()
    assert stored(data_dir, user) == {
        "reflect.q1": "First, before the restart",
        "reflect.q2": "Second, while the bot was away",
    }


# ----- requests that are not Telegram's --------------------------------------------------------


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    at_first_question(user)
    fake.wait_idle()
    update = crafted_update(user, "Forged answer")
    mark, calls = user.mark(), fake.request_count()
    for secret in ("forged-" + SECRET, SECRET[:-1], SECRET.upper(), "", None):
        assert post_update(hook_bot, update, secret) == 403, secret
    user.wait_no_reply(mark, seconds=2)
    assert sends_since(fake, calls) == []
    assert stored(data_dir, user) == {}
    # The same update with the right secret is taken: the refusals were about the secret alone.
    assert post_update(hook_bot, update, SECRET) == 200
    [following] = wait_news(user, mark)
    assert "reflect:skip:ask.q2" in str(following.buttons)
    assert stored(data_dir, user) == {"reflect.q1": "Forged answer"}


def test_a_forged_start_gets_no_answer(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    update = crafted_update(user, "/start")
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
    calls = fake.request_count()
    assert post_update(hook_bot, update, "not-the-secret") == 403
    assert post_update(hook_bot, update, None) == 403
    time.sleep(1)  # give a wrongly accepted update time to be answered
    assert sends_since(fake, calls) == []
    assert stored(data_dir, user) == {}


def test_the_403_comes_before_the_body_is_read(hook_bot: BotProcess) -> None:
    # Ten million bytes announced and none sent: a server that read the body first would wait.
    announced = {"Content-Type": "application/json", "Content-Length": "10000000"}
    assert raw_request(hook_bot, {**announced, SECRET_HEADER: "wrong"}) == 403
    assert raw_request(hook_bot, announced) == 403


def test_a_body_over_one_megabyte_is_refused_and_the_bot_serves_on(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    at_first_question(user)
    fake.wait_idle()
    big = json.dumps(crafted_update(user, "x" * (ONE_MB + 10))).encode()
    assert len(big) > ONE_MB
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    assert raw_request(hook_bot, headers, big) == 413
    # Without a Content-Length (chunked), the limit holds while reading.
    chunked = f"{len(big):x}\r\n".encode() + big + b"\r\n0\r\n\r\n"
    assert raw_request(hook_bot, {**headers, "Transfer-Encoding": "chunked"}, chunked) == 413
    assert stored(data_dir, user) == {}
    following = reply(user, lambda: user.send("Still here"))
    assert "reflect:skip:ask.q2" in str(following.buttons)
    assert stored(data_dir, user) == {"reflect.q1": "Still here"}


def test_what_is_not_one_json_update_is_refused(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    at_first_question(user)
    fake.wait_idle()
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    one = crafted_update(user, "In a list")
    for body in (b"{not json", b"", b"[]", json.dumps([one]).encode(), b'{"message": {}}'):
        assert raw_request(hook_bot, headers, body) == 400, body
    assert raw_request(hook_bot, headers, method="GET") == 405
    assert raw_request(hook_bot, headers, json.dumps(one).encode(), path="/other") == 404
    assert stored(data_dir, user) == {}
    following = reply(user, lambda: user.send("A real answer"))
    assert "reflect:skip:ask.q2" in str(following.buttons)
    assert stored(data_dir, user) == {"reflect.q1": "A real answer"}


def test_logs_never_hold_the_secret_the_token_or_what_people_write(
    hook_bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    canary = "canary-7f3e-written-by-the-person"
    forged = "forged-canary-0c1d"
    at_first_question(user)
    reply(user, lambda: user.send(f"My answer {canary}"))
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    assert post_update(hook_bot, crafted_update(user, canary), forged) == 403
    assert raw_request(hook_bot, headers, f'{{"broken {canary}'.encode()) == 400
    assert raw_request(hook_bot, headers, json.dumps([canary]).encode()) == 400
    fake.wait_idle()
    hook_bot.stop()
    logs = hook_bot.logs()
    for secret in (SECRET, TEST_TOKEN, TEST_TOKEN.split(":", 1)[1], canary, forged):
        assert secret not in logs, secret


# ----- slow or many connections -----------------------------------------------------------------


def closed_by_the_bot(sock: socket.socket) -> bool:
    """Whether the bot closes this connection (waiting up to the socket's timeout)."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_connection_that_never_finishes_its_head_is_closed(hook_bot: BotProcess) -> None:
    with socket.create_connection(hook_bot.webhook_address, timeout=60) as sock:
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: bot\r\n{SECRET_HEADER}: ".encode())
        assert closed_by_the_bot(sock)
    with socket.create_connection(hook_bot.webhook_address, timeout=60) as sock:
        assert closed_by_the_bot(sock)  # nothing at all


def test_connections_over_the_cap_are_closed_at_once_and_the_bot_serves_on(
    hook_bot: BotProcess, user: FakeUser
) -> None:
    with contextlib.ExitStack() as stack:
        held = [
            stack.enter_context(socket.create_connection(hook_bot.webhook_address, timeout=30))
            for _ in range(MAX_OPEN)
        ]
        # An answer on the last one: every connection before it has been taken in too.
        held[-1].sendall(f"GET {PATH} HTTP/1.1\r\nHost: bot\r\n\r\n".encode())
        assert held[-1].recv(1024).startswith(b"HTTP/1.1 405")
        with socket.create_connection(hook_bot.webhook_address, timeout=30) as extra:
            assert closed_by_the_bot(extra)
    # Once they are gone, Telegram's updates come in as ever.
    begin(user)
    assert "Webhook connection refused" in hook_bot.logs()


def test_the_webhook_listens_on_loopback_unless_told_otherwise(bot_factory: BotFactory) -> None:
    port = free_port()
    bot = bot_factory({**webhook_env(port), "WEBHOOK_LISTEN": None}).start().wait_ready()
    assert f"Webhook server listening on 127.0.0.1:{port}" in bot.logs()
