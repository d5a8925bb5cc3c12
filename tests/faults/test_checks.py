"""The after-case checks themselves: each one fails on the fault it is there to catch."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tests.faults.checks import (
    Ledger,
    PersonData,
    expectation_problems,
    integrity,
    isolation_problems,
    leak_problems,
    plaintext_problems,
)

ANA, BEN = 1001, 1002


@dataclass(frozen=True)
class Person:
    """Someone with a Telegram id (no bot or fake server needed: these check plain data)."""

    user_id: int


def people() -> tuple[Ledger, Person, Person]:
    """A fresh ledger, Ana and Ben."""
    return Ledger(), Person(ANA), Person(BEN)


def test_an_acknowledged_answer_must_be_stored_once_at_its_key() -> None:
    """Missing, different, or stored a second time under another key: each is a problem."""
    ledger, ana, _ = people()
    text = ledger.canary(ana)
    ledger.acknowledged(ana, "reflect.q1", text)
    good = {ANA: PersonData({"reflect.q1": text}, [])}
    assert expectation_problems(ledger, good) == []
    for bad in (
        {},
        {ANA: PersonData({}, [])},
        {ANA: PersonData({"reflect.q1": "something else"}, [])},
        {ANA: PersonData({"reflect.q1": text, "reflect.q2": text}, [])},
    ):
        assert expectation_problems(ledger, bad), bad


def test_an_acknowledged_chart_row_must_be_stored_once() -> None:
    """Two rows with the same topic (a duplicate) or a wrong rating are problems."""
    ledger, ana, _ = people()
    ledger.session(ana, "topic", trust=7)
    row: dict[str, object] = {"topic": "topic", "role": None, "trust": 7}
    assert expectation_problems(ledger, {ANA: PersonData({}, [row])}) == []
    assert expectation_problems(ledger, {ANA: PersonData({}, [row, row])})
    assert expectation_problems(ledger, {ANA: PersonData({}, [{**row, "trust": 6}])})


def test_another_persons_canary_in_someones_data_is_a_problem() -> None:
    """Isolation: Ben's data must not hold what Ana typed (her own data may)."""
    ledger, ana, _ = people()
    phrase = ledger.canary(ana)
    mine = {ANA: PersonData({"k": f"x {phrase} y"}, [])}
    assert isolation_problems(ledger, mine) == []
    theirs = {BEN: PersonData({}, [{"topic": f"x {phrase}", "role": None}])}
    assert isolation_problems(ledger, theirs)


def test_a_token_or_canary_in_a_log_is_a_problem() -> None:
    """Leaks into logs are found; a clean log passes."""
    ledger, ana, _ = people()
    phrase = ledger.canary(ana)
    assert leak_problems("TOKEN", [phrase], [("log", "all quiet")]) == []
    assert leak_problems("TOKEN", [phrase], [("log", "url /botTOKEN/getMe")])
    assert leak_problems("TOKEN", [phrase], [("log", f"text={phrase}")])


def test_integrity_and_plain_text_in_the_database_file(tmp_path: Path) -> None:
    """A sound file is "ok"; a damaged one is not; a canary written in clear is found."""
    path = tmp_path / "bot.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.executemany("INSERT INTO t VALUES (?)", [("a" * 500,)] * 200)
    connection.execute("INSERT INTO t VALUES ('amber canary 1')")
    connection.commit()
    connection.close()
    assert integrity(path) == "ok"
    assert plaintext_problems(tmp_path, ["amber canary 1"])
    assert plaintext_problems(tmp_path, ["not there"]) == []
    data = bytearray(path.read_bytes())
    data[4096 : 4096 + 400] = b"\xff" * 300  # scribble over the second page
    path.write_bytes(bytes(data))
    assert integrity(path) != "ok"
