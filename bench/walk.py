"""The whole worksheet as one person walks it (the sequence of tests/e2e/test_full_walk.py).

/start and "I agree"; /learn page by page; /checklist with two statements; /tips with two marked;
/reflect's ten answers; three /log entries (the time-zone question skipped; buttons, a typed
rating and a typed date); /finish; then /review with two of its views. Every step waits for
the bot to have handled the one before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from bench.common import BenchError
from bench.local import Person
from conversations.worksheet.content import items
from storage import Store

REFLECT = [
    "Trust is kept promises, not tricks",
    "My grandmother's kitchen: same chair, same tea",
    "Безопасность — это тишина 🌿 و ثقة 安全感",
    "Knowing the fifty minutes are mine",
    "Write it down first, then read it out",
    "No touching, not even a hand on the shoulder",
    "Start and end on time, please",
    "Ask me before anything goes in the notes",
    "Remember what I said last week",
    "A two-minute check-in at the very end 🙂",
]
ANSWERS_PER_WALK = 16  # checklist 1 (the selection), tips 1 (the marks), reflect 10, finish 4
MARKS_PER_WALK = 3  # learn, checklist and tips done (progress rows, not answers)
SESSIONS_PER_WALK = 3


def walk_length() -> int:
    """How many updates one walk sends."""
    pages, tips = len(items("learn.items")), len(items("tips.items"))
    return 2 + (1 + pages) + 4 + (1 + tips + 2) + (1 + len(REFLECT)) + 19 + 5 + 3


async def walk(person: Person, *, review: bool = True) -> None:
    """One person walks every section of the worksheet, waiting for each reply."""
    await person.command("start")
    await person.press("start:agree")

    await person.command("learn")
    for page in range(1, len(items("learn.items")) + 1):
        await person.press(f"learn:next:{page}")

    await person.command("checklist")
    for number in (2, 5):
        await person.press(f"checklist:toggle:{number}")
    await person.press("checklist:done")

    await person.command("tips")
    for number in range(1, len(items("tips.items")) + 1):
        if number in (2, 6):
            await person.press(f"tips:mark:{number}")
        await person.press(f"tips:next:{number}")

    await person.command("reflect")
    for answer in REFLECT:
        await person.send(answer)

    today = dt.datetime.now(dt.UTC).date()
    await person.command("log")
    await person.press("log:skip:zone")  # asked once, before the first date, without a zone
    await person.press("log:today")
    await person.send("Mum & work <stress>")
    await person.press("log:trust:7")
    await person.press("log:safety:8")
    await person.send("Ask about my week first & wait")
    await person.press("log:another")
    await person.press("log:yesterday")
    await person.send("Sleep 😴 and dreams")
    await person.send(" 4 ")
    await person.press("log:safety:5")
    await person.send("Slow down when I go quiet")
    await person.command("log")
    await person.send((today - dt.timedelta(days=3)).strftime("%d.%m.%Y"))
    await person.send("Boundaries: «нет» is okay")
    await person.press("log:trust:9")
    await person.press("log:safety:10")
    await person.send("Nothing — it felt right ✨")

    await person.command("finish")
    await person.send("Mostly yes — she listens & remembers 💬")
    await person.press("finish:pick:surprise:yes")
    await person.send("How the numbers rose: 4 → 9 📈")
    await person.press("finish:rate:helpful:8")

    if review:
        await person.command("review")
        await person.press("review:view:reflect")
        await person.press("review:chart:0")


async def check_stored(store: Store, people: Sequence[int]) -> list[str]:
    """Every answer of every walk is in the database, and each reflection in its place."""
    problems: list[str] = []
    async with store.db.read() as session:
        rows = await session.execute(
            text(
                "SELECT p.telegram_id, "
                "(SELECT count(*) FROM answer a WHERE a.person_id = p.id), "
                "(SELECT count(*) FROM session_entry s WHERE s.person_id = p.id AND s.complete), "
                "(SELECT count(*) FROM progress m "
                "WHERE m.person_id = p.id AND m.key LIKE '%.done') "
                "FROM person p"
            )
        )
        counts: dict[int, tuple[Any, ...]] = {int(r[0]): tuple(r[1:]) for r in rows}
    expected = (ANSWERS_PER_WALK, SESSIONS_PER_WALK, MARKS_PER_WALK)
    short = [p for p in people if counts.get(p) != expected]
    if short:
        problems.append(f"{len(short)} people's answers or sessions not all stored: {short[:5]}")
    for telegram_id in people[:20]:  # decrypting every walk would dominate small runs
        stored = await store.answers(telegram_id, "reflect.")
        got = [stored[k].text for k in sorted(stored, key=_reflect_order)]
        if got != REFLECT:
            problems.append(f"person {telegram_id}: reflections stored out of order")
    return problems


def _reflect_order(key: str) -> tuple[int, ...]:
    return tuple(int(part) for part in key.removeprefix("reflect.q").split("."))


def person_ids(count: int, first: int = 10_000_001) -> list[int]:
    """Telegram ids for simulated people."""
    return list(range(first, first + count))


def check_walk_lengths(people: Sequence[Person]) -> list[str]:
    """Each person sent the whole walk."""
    expected = walk_length()
    wrong = [p.user_id for p in people if len(p.latencies) != expected]
    return [f"{len(wrong)} walks incomplete"] if wrong else []


def fail_on(problems: list[str]) -> None:
    """Raise if anything was lost, duplicated or out of order."""
    if problems:
        raise BenchError("; ".join(problems))
