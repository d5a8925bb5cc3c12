"""Reading a worksheet file: the built-in one and the documented example load, every mistake is
one sentence naming the file and the place, and the model's rules hold on the built-in worksheet.

Nothing here changes the worksheet the rest of the suite runs: files are read with `load()` and a
lookup of their own, and `current.use()` is only called inside `isolated_words`, which puts the
bot's words and worksheet back afterwards.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from conversations.engines.pages import Pages
from conversations.worksheet import content, current
from conversations.worksheet.loader import BUILT_IN, CHART_FIELDS, RESERVED, WorksheetError, load
from conversations.worksheet.model import Done, ItemKind, Offer, SectionKind, Worksheet

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "worksheet-format.md"
SMALL = ROOT / "tests" / "worksheets" / "small.toml"
# A fenced TOML block of the doc whose first line names the file it is ("# file: x.toml").
EXAMPLE_BLOCK = re.compile(r"```toml\n# file: (?P<name>\S+)\n(?P<body>.*?)```", re.DOTALL)
# The error lines the doc shows, for the example's file.
DOC_PATH = "/srv/worksheets/preparing.toml"
TODAY = dt.date(2026, 11, 26)

Lookup = Callable[[str], Any]


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def example_files() -> dict[str, str]:
    """The doc's example, by file name: the structure file and its words file."""
    return {m["name"]: m["body"] for m in EXAMPLE_BLOCK.finditer(doc_text())}


def doc_errors() -> list[str]:
    """The error lines the doc shows, without "error: " and the file."""
    block = doc_text().split("```text\n", 1)[1].split("```", 1)[0]
    return [
        line.removeprefix(f"error: {DOC_PATH}: ") for line in block.splitlines() if line.strip()
    ]


def dig(tree: Mapping[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def lookup_over(words: Mapping[str, Any], *, bot: bool = True) -> Lookup:
    """A lookup of `words` first, then (with `bot`) the bot's own words."""

    def lookup(key: str) -> Any:
        value = dig(words, key)
        return value if value is not None or not bot else content.lookup(key)

    return lookup


def write_example(folder: Path, structure: str | None = None, words: str | None = None) -> Path:
    """The doc's example (or a changed copy) as preparing.toml and preparing/words.toml."""
    files = example_files()
    path = folder / "preparing.toml"
    path.write_text(structure if structure is not None else files["preparing.toml"], "utf-8")
    (folder / "preparing").mkdir(exist_ok=True)
    (folder / "preparing" / "words.toml").write_text(
        words if words is not None else files["preparing/words.toml"], "utf-8"
    )
    return path


def example_words(text: str | None = None) -> dict[str, Any]:
    return tomllib.loads(text if text is not None else example_files()["preparing/words.toml"])


def one_sentence(error: WorksheetError, path: Path) -> str:
    """The error's sentence after the file's name, checked to be fit to print before exit 2."""
    message = str(error)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    assert message.endswith("."), message
    return message.removeprefix(f"{path}: ")


@pytest.fixture
def isolated_words() -> Iterator[None]:
    """Lets a test call `current.use()`; the bot's words and worksheet are restored after."""
    dirs, sheet = list(content._extra_dirs), current._current
    try:
        yield
    finally:
        content._extra_dirs[:] = dirs
        content._tree.cache_clear()
        current._current = sheet


@pytest.fixture(scope="module")
def built_in() -> Worksheet:
    return load(BUILT_IN, content.lookup)


# The built-in worksheet ----------------------------------------------------------------------


def test_the_built_in_worksheet_loads_with_the_counts_of_the_paper_one(built_in: Worksheet) -> None:
    assert built_in.id == "trust_safety"
    assert [(s.id, s.kind, s.command, s.done) for s in built_in] == [
        ("learn", SectionKind.PAGES, "learn", Done.READ),
        ("checklist", SectionKind.TOGGLES, "checklist", Done.CHOSEN),
        ("tips", SectionKind.PAGES, "tips", Done.READ),
        ("reflect", SectionKind.PROMPTS, "reflect", Done.ANSWERED),
        ("log", SectionKind.CHART, "log", Done.NEVER),
        ("finish", SectionKind.PROMPTS, "finish", Done.ANSWERED),
    ]
    reflect = built_in.section("reflect")
    assert len(reflect.items) == 8
    assert [i.label for i in reflect.items] == [str(n) for n in range(1, 9)]
    sixth = reflect.items[5]
    assert (sixth.kind, sixth.parts) == (ItemKind.NUMBERED, 3)
    assert [(p.key, p.label) for p in sixth.prompts()] == [
        ("reflect.q6.1", "6.1"),
        ("reflect.q6.2", "6.2"),
        ("reflect.q6.3", "6.3"),
    ]
    assert len(reflect.prompts()) == 10
    finish = built_in.section("finish")
    assert [p.label for p in finish.prompts()] == ["1", "2a", "2b", "3"]
    assert [p.kind for p in finish.prompts()] == [
        ItemKind.TEXT,
        ItemKind.YES_NO,
        ItemKind.TEXT,
        ItemKind.RATING,
    ]
    assert finish.offer == Offer(12, 12)
    assert len(built_in.section("checklist").items) == 8
    tips = built_in.section("tips")
    assert len(tips.items) == 7 and {i.kind for i in tips.items} == {ItemKind.TIP}
    assert len(built_in.section("learn").items) == 4
    assert built_in.chart is built_in.section("log")
    assert tuple((i.id, i.kind) for i in built_in.section("log").items) == CHART_FIELDS


def test_the_worksheet_in_use_is_the_built_in_one_unless_another_is_chosen(
    built_in: Worksheet,
) -> None:
    assert current.worksheet() == built_in


# The doc's example and the second worksheet of the tests -------------------------------------


def test_the_example_in_the_doc_loads_from_its_file_and_the_words_beside_it(
    tmp_path: Path, isolated_words: None
) -> None:
    assert set(example_files()) == {"preparing.toml", "preparing/words.toml"}
    sheet = current.use(write_example(tmp_path))
    assert current.worksheet() is sheet
    assert sheet.id == "preparing"
    assert [(s.id, s.kind, s.command) for s in sheet] == [
        ("prepare", SectionKind.PAGES, "prepare"),
        ("worries", SectionKind.TOGGLES, "worries"),
        ("plan", SectionKind.PROMPTS, "my_plan"),
    ]
    plan = sheet.section("plan")
    assert [p.label for p in plan.prompts()] == ["1.1", "1.2", "2a", "2b", "3"]
    condition = plan.item("share_what").shown_if
    assert condition is not None and (condition.key, condition.equals) == ("plan.share", "yes")
    # Its words are the bot's words now, over the bot's own.
    assert content.t("menu.plan") == "📝 My plan"
    assert content.t("worksheet.title") == "Preparing for a Session"
    assert content.t("common.next") == "Next ›"


def test_the_example_in_the_doc_gives_every_word_its_sections_look_up() -> None:
    # The loader checks an item's words and the menu and command words; the doc promises the
    # example has the rest too.
    words = example_words()
    for name in (*Pages.WORDS, *Pages.TIP_WORDS):
        assert isinstance(dig(words, f"prepare.{name}"), str), name
    for name in ("intro", "again", "how", "statement", "button", "chosen", "ticked"):
        assert isinstance(dig(words, f"worries.{name}"), str), name
    assert isinstance(dig(words, "worries.followup"), list)
    assert isinstance(dig(words, "plan.intro"), str)


def test_the_second_worksheet_of_the_tests_loads_with_its_own_commands(
    isolated_words: None,
) -> None:
    sheet = current.use(SMALL)
    assert [(s.id, s.kind, s.command, len(s.items)) for s in sheet] == [
        ("about", SectionKind.PAGES, "about", 2),
        ("signs", SectionKind.TOGGLES, "signs", 3),
        ("voice", SectionKind.PROMPTS, "speak_up", 4),
    ]
    assert sheet.chart is None
    voice = sheet.section("voice")
    assert [p.kind for p in voice.prompts()] == [
        ItemKind.TEXT,
        ItemKind.YES_NO,
        ItemKind.TEXT,
        ItemKind.RATING,
    ]
    assert voice.item("told_how").shown_if is not None
    built_in_commands = {s.command for s in load(BUILT_IN, content.lookup)}
    assert not {s.command for s in sheet} & (RESERVED | built_in_commands)
    assert not {s.id for s in sheet} & {s.id for s in load(BUILT_IN, content.lookup)}


# Mistakes: each one sentence naming the file and the place ------------------------------------

# Changes to the doc's example: (structure text to replace, its replacement) or, for the words,
# a key to take out; then the sentence after the file's name.
Change = tuple[str, str] | None
MISTAKES: list[tuple[str, Change, str | None, str]] = [
    (
        "unknown section kind",
        ('kind = "prompts"', 'kind = "survey"'),
        None,
        'section "plan": "survey" is not a known kind (known: pages, toggles, prompts, chart).',
    ),
    (
        "unknown item kind",
        ('{ id = "ready", kind = "rating"', '{ id = "ready", kind = "slider"'),
        None,
        'item "plan.ready": "slider" is not a known kind '
        "(known: page, tip, toggle, text, numbered, yes_no, rating, date).",
    ),
    (
        "item kind not allowed in its section kind",
        ('{ id = "forget", kind = "toggle" }', '{ id = "forget", kind = "text" }'),
        None,
        'item "worries.forget": a toggles section cannot hold a "text".',
    ),
    (
        "a page among prompts",
        ('{ id = "ready", kind = "rating"', '{ id = "ready", kind = "page"'),
        None,
        'item "plan.ready": a prompts section cannot hold a "page".',
    ),
    (
        "duplicate section id",
        (
            '[[sections]]\nid = "worries"',
            '[[sections]]\nid = "prepare"\nkind = "pages"\ndone = "read"\n'
            'items = [{ id = "why", kind = "page" }]\n\n[[sections]]\nid = "worries"',
        ),
        None,
        'section "prepare": this id is used twice.',
    ),
    (
        "duplicate item id",
        ('{ id = "share_what"', '{ id = "share", kind = "yes_no" },\n    { id = "share_what"'),
        None,
        'item "plan.share": this id is used twice.',
    ),
    (
        "duplicate command",
        ('id = "worries"\n', 'id = "worries"\ncommand = "prepare"\n'),
        None,
        'section "worries": command "/prepare" is taken.',
    ),
    (
        "shown_if naming a later item",
        ('item = "share"', 'item = "ready"'),
        None,
        'item "plan.share_what": its shown_if names "ready", which is not an item before it.',
    ),
    (
        "shown_if naming a missing item",
        ('item = "share"', 'item = "shared"'),
        None,
        'item "plan.share_what": its shown_if names "shared", which is not an item before it.',
    ),
    (
        "shown_if naming its own item",
        ('item = "share"', 'item = "share_what"'),
        None,
        'item "plan.share_what": its shown_if names "share_what", which is not an item before it.',
    ),
    (
        "shown_if without equals",
        ('shown_if = { item = "share", equals = "yes" }', 'shown_if = { item = "share" }'),
        None,
        'item "plan.share_what": shown_if needs "item" and "equals".',
    ),
    (
        "numbered item with one part",
        ("parts = 2", "parts = 1"),
        None,
        'item "plan.topics": a numbered item needs "parts" from 2 to 10.',
    ),
    (
        "numbered item without parts",
        (", parts = 2 }", " }"),
        None,
        'item "plan.topics": a numbered item needs "parts" from 2 to 10.',
    ),
    (
        "numbered item with parts as text",
        ("parts = 2", 'parts = "2"'),
        None,
        'item "plan.topics": a numbered item needs "parts" from 2 to 10.',
    ),
    (
        "numbered item with more parts than headings",
        ("parts = 2", "parts = 3"),
        None,
        'item "plan.topics": the words "plan.items.topics.parts" need 3.',
    ),
    (
        "item without its text",
        None,
        "prepare.items.why.text",
        'item "prepare.why": the words "prepare.items.why.text" are missing.',
    ),
    (
        "rating without its scale",
        None,
        "plan.items.ready.scale",
        'item "plan.ready": the words "plan.items.ready.scale" are missing.',
    ),
    (
        "toggle without its button label",
        None,
        "worries.items.time.label",
        'item "worries.time": the words "worries.items.time.label" are missing.',
    ),
    (
        "section without its menu words",
        None,
        "menu.plan",
        'section "plan": the words "menu.plan" are missing.',
    ),
    (
        "section without its command words",
        None,
        "commands.my_plan",
        'section "plan": the words "commands.my_plan" are missing.',
    ),
    (
        "reserved command",
        ('command = "my_plan"', 'command = "review"'),
        None,
        'section "plan": "/review" cannot be its command.',
    ),
    (
        "reserved command by default",
        ('id = "plan"\nkind = "prompts"\ncommand = "my_plan"\n', 'id = "help"\nkind = "prompts"\n'),
        None,
        'section "help": "/help" cannot be its command.',
    ),
    (
        "unknown section field",
        ('command = "my_plan"\n', 'command = "my_plan"\ncolour = "blue"\n'),
        None,
        'section "plan": has an unknown field "colour".',
    ),
    (
        "unknown item field",
        ('label = "3" }', 'label = "3", max = 5 }'),
        None,
        'item "plan.ready": has an unknown field "max".',
    ),
    (
        "id with capitals",
        ('id = "plan"', 'id = "My Plan"'),
        None,
        'section 3: needs an "id" of lower-case letters, digits and _.',
    ),
    (
        "unknown done rule",
        ('done = "answered"', 'done = "sometimes"'),
        None,
        'section "plan": "sometimes" is not a known done (known: read, chosen, answered, never).',
    ),
    (
        "offer with one number",
        ('done = "answered"\n', 'done = "answered"\noffer = { after_entries = 12 }\n'),
        None,
        'section "plan": offer needs "after_entries" and "after_weeks", whole numbers.',
    ),
    (
        "section without items",
        ('{ id = "forget", kind = "toggle" },\n    { id = "time", kind = "toggle" },\n', ""),
        None,
        'section "worries": needs at least one item.',
    ),
    (
        "worksheet without an id",
        ('id = "preparing"', 'name = "preparing"'),
        None,
        '[worksheet]: needs an "id".',
    ),
    (
        "a session chart out of order",
        (
            '[[sections]]\nid = "worries"',
            '[[sections]]\nid = "log"\nkind = "chart"\ndone = "never"\nitems = [\n'
            '    { id = "date", kind = "date" },\n    { id = "topic", kind = "text" },\n'
            '    { id = "safety", kind = "rating" },\n    { id = "trust", kind = "rating" },\n'
            '    { id = "role", kind = "text" },\n]\n\n[[sections]]\nid = "worries"',
        ),
        None,
        'section "log": the session chart is the section "log" with the fields date (date), '
        "topic (text), trust (rating), safety (rating), role (text), in this order.",
    ),
]


def changed(text: str, change: tuple[str, str]) -> str:
    old, new = change
    assert text.count(old) >= 1, f"the doc's example no longer has {old!r}"
    return text.replace(old, new, 1)


def without(words: dict[str, Any], key: str) -> dict[str, Any]:
    *table, name = key.split(".")
    node = words
    for part in table:
        node = node[part]
    del node[name]
    return words


@pytest.mark.parametrize(
    ("change", "missing", "sentence"),
    [pytest.param(c, m, s, id=name) for name, c, m, s in MISTAKES],
)
def test_each_mistake_is_one_sentence_naming_the_file_and_the_place(
    tmp_path: Path, change: Change, missing: str | None, sentence: str
) -> None:
    structure = example_files()["preparing.toml"]
    path = write_example(tmp_path, changed(structure, change) if change else structure)
    words = example_words()
    if missing is not None:
        without(words, missing)
    with pytest.raises(WorksheetError) as raised:
        load(path, lookup_over(words))
    assert one_sentence(raised.value, path) == sentence


def test_the_worksheet_words_are_needed_too(tmp_path: Path) -> None:
    path = write_example(tmp_path)
    words = without(example_words(), "worksheet.objective")
    with pytest.raises(WorksheetError) as raised:
        load(path, lookup_over(words, bot=False))
    assert one_sentence(raised.value, path) == (
        '[worksheet]: the words "worksheet.objective" are missing.'
    )


def test_a_file_that_is_not_toml_or_not_there_is_one_sentence_too(tmp_path: Path) -> None:
    structure = example_files()["preparing.toml"]
    path = write_example(tmp_path, changed(structure, ('id = "preparing"', 'id "preparing"')))
    with pytest.raises(WorksheetError) as raised:
        load(path, lookup_over(example_words()))
    assert one_sentence(raised.value, path).startswith("is not valid TOML (")
    assert "line 2" in str(raised.value)

    path.write_bytes(b"\xff\xfe[worksheet]")
    with pytest.raises(WorksheetError) as raised:
        load(path, lookup_over(example_words()))
    assert one_sentence(raised.value, path).startswith("is not valid TOML (")

    gone = tmp_path / "gone.toml"
    with pytest.raises(WorksheetError) as raised:
        load(gone, lookup_over(example_words()))
    assert one_sentence(raised.value, gone) == "cannot be read (No such file or directory)."

    empty = tmp_path / "empty.toml"
    empty.write_text('[worksheet]\nid = "x"\n', "utf-8")
    with pytest.raises(WorksheetError) as raised:
        load(empty, lookup_over(example_words()))
    assert one_sentence(raised.value, empty) == "[[sections]]: there must be at least one section."


def test_the_errors_the_doc_shows_are_the_loaders() -> None:
    sentences = {sentence for _, _, _, sentence in MISTAKES}
    shown = doc_errors()
    assert shown, "the doc shows no errors"
    for line in shown:
        assert line in sentences or line.startswith("is not valid TOML ("), line


# Mistakes the loader lets through (each a bug to fix; see the reason) -------------------------

# Mistakes once let through (each with what went wrong then): now each is one sentence at start.
LET_THROUGH: list[tuple[str, Change, str | None, str]] = [
    (
        "parts as text on a text item",
        ('{ id = "share_what", kind = "text"', '{ id = "share_what", kind = "text", parts = "x"'),
        None,
        "loader.Reader.item: int(parts) raises ValueError, not WorksheetError "
        "(a traceback, exit 1)",
    ),
    (
        "a section id that is a feature's",
        ('id = "plan"\nkind = "prompts"', 'id = "review"\nkind = "prompts"'),
        None,
        "loader.Reader.section: only the command is checked against RESERVED; the id 'review' "
        "takes the menu:review button and the conversation name of /review",
    ),
    (
        "shown_if naming a numbered item",
        ('item = "share"', 'item = "topics"'),
        None,
        "loader.Reader.section: a numbered item's answers are stored per part, so the condition "
        "on 'plan.topics' never holds",
    ),
    (
        "a prompts section without its intro",
        None,
        "plan.intro",
        "loader.Reader.section: only menu/commands words are checked; Prompts.enter fails on "
        "the first visit",
    ),
    (
        "a toggles section without its words",
        None,
        "worries.how",
        "loader.Reader.section: only menu/commands words are checked; Toggles.text fails",
    ),
    (
        "ids too long for a button",
        ('id = "plan"', f'id = "{"p" * 24}"'),
        None,
        "loader.ID allows 24 + 24 characters; review's 'review:change:<key>' is over 64 bytes "
        "and its KEY pattern takes 45",
    ),
]


@pytest.mark.parametrize(
    ("change", "missing"),
    [pytest.param(c, m, id=name) for name, c, m, _ in LET_THROUGH],
)
def test_mistakes_the_loader_should_catch(
    tmp_path: Path, change: Change, missing: str | None
) -> None:
    structure = example_files()["preparing.toml"]
    path = write_example(tmp_path, changed(structure, change) if change else structure)
    words = example_words()
    if missing is not None:
        without(words, missing)
    long_id = "p" * 24
    words.setdefault("menu", {})[long_id] = "📝"
    words.setdefault("commands", {})[long_id] = "long"
    words[long_id] = words["plan"]
    words.setdefault("menu", {})["review"] = "x"
    words["commands"]["review"] = "x"
    words["review"] = words["plan"]
    with pytest.raises(WorksheetError):
        load(path, lookup_over(words))


def test_a_pages_section_without_its_own_words_has_the_shared_ones() -> None:
    names = [n for n in (*Pages.WORDS, *Pages.TIP_WORDS) if n != "intro"]
    assert [n for n in names if not isinstance(content.lookup(f"common.pages.{n}"), str)] == []


# The model's rules, on the built-in worksheet ------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "ids"),
    [
        (None, []),
        ("", []),
        ("3", ["3"]),
        ("8,1,4", ["1", "4", "8"]),
        ("4,4", ["4"]),
        (" 5 ,2", ["2", "5"]),
        ("9,0,x,,1.5,-1,02,q1", []),
        ("2,junk,7", ["2", "7"]),
    ],
)
def test_a_stored_selection_names_known_items_in_worksheet_order(
    built_in: Worksheet, stored: str | None, ids: list[str]
) -> None:
    assert [i.id for i in built_in.section("checklist").selected(stored)] == ids


def test_a_selection_is_stored_in_worksheet_order_and_toggles_one_item(
    built_in: Worksheet,
) -> None:
    checklist = built_in.section("checklist")
    assert checklist.selection(["8", "2", "junk", "2"]) == "2,8"
    assert checklist.selection([]) == ""
    assert checklist.toggled(None, "5") == "5"
    assert checklist.toggled("8", "1") == "1,8"
    assert checklist.toggled("1,8", "8") == "1"
    assert checklist.toggled("1", "99") == "1"  # an unknown id ticks nothing
    assert checklist.toggled("junk,3", "3") == ""
    assert checklist.selection_key == "checklist.selected"
    assert built_in.section("tips").selection_key == "tips.marked"


def test_if_so_describe_is_asked_only_after_yes_and_stays_once_answered(
    built_in: Worksheet,
) -> None:
    finish = built_in.section("finish")
    detail = finish.item("surprise_detail")
    assert not detail.applies({})
    assert detail.applies({"finish.surprise": "yes"})
    assert not detail.applies({"finish.surprise": "no"})
    assert not detail.applies({"finish.surprise": None})
    assert detail.applies({"finish.surprise": "no", "finish.surprise_detail": "kept"})

    def asked(answers: dict[str, str | None]) -> list[str]:
        return [p.label for p in finish.asked(answers)]

    assert asked({}) == ["1", "2a", "3"]
    assert asked({"finish.surprise": "yes"}) == ["1", "2a", "2b", "3"]
    assert asked({"finish.surprise": "no"}) == ["1", "2a", "3"]


def test_counts_are_of_the_questions_that_apply(built_in: Worksheet) -> None:
    reflect, finish = built_in.section("reflect"), built_in.section("finish")
    # Eight questions, as the section's introduction says (the sixth has three answers).
    assert reflect.counts({}) == (0, 0, 8)
    some = {"reflect.q1": "a", "reflect.q6.2": "b", "reflect.q3": None, "reflect.other": "x"}
    assert reflect.counts(some) == (2, 1, 8)  # 6 answered in part counts as answered
    part_skipped = {"reflect.q6.1": None, "reflect.q6.2": None, "reflect.q6.3": "c"}
    assert reflect.counts(part_skipped) == (1, 0, 8)
    assert reflect.counts({"reflect.q6.1": None, "reflect.q6.2": None}) == (0, 1, 8)
    assert [p.key for p in reflect.skipped(part_skipped)] == ["reflect.q6.1", "reflect.q6.2"]
    assert finish.counts({}) == (0, 0, 3)
    assert finish.counts({"finish.surprise": "yes", "finish.trust": "t"}) == (2, 0, 4)
    assert finish.counts({"finish.surprise": "no", "finish.helpful": None}) == (1, 1, 3)


def test_what_counts_as_done_by_each_rule(built_in: Worksheet) -> None:
    learn, tips = built_in.section("learn"), built_in.section("tips")
    checklist, log = built_in.section("checklist"), built_in.section("log")
    reflect, finish = built_in.section("reflect"), built_in.section("finish")
    # read: the last page was reached.
    assert not learn.is_done({}) and learn.is_done({"learn.done": "1"})
    assert not tips.is_done({"tips.marked": "1,2"}) and tips.is_done({"tips.done": "1"})
    # chosen: Done was pressed, or something was ever ticked.
    assert not checklist.is_done({})
    assert checklist.is_done({"checklist.done": "1"})
    assert checklist.is_done({"checklist.selected": ""})
    # answered: every prompt that applies, skipped ones still wait.
    every = {p.key: "words" for p in reflect.prompts()}
    assert reflect.is_done(every)
    assert not reflect.is_done(every | {"reflect.q6.3": None})
    assert not reflect.is_done({k: v for k, v in every.items() if k != "reflect.q8"})
    base = {"finish.trust": "t", "finish.helpful": "7"}
    assert finish.is_done(base | {"finish.surprise": "no"})
    assert not finish.is_done(base | {"finish.surprise": "yes"})
    assert finish.is_done(base | {"finish.surprise": "yes", "finish.surprise_detail": "d"})
    # never: the chart.
    assert not log.is_done({"log.done": "1"})


def test_the_next_open_prompt_skips_what_does_not_apply_and_what_is_answered(
    built_in: Worksheet,
) -> None:
    finish, reflect = built_in.section("finish"), built_in.section("reflect")

    def after(answers: dict[str, str | None], key: str) -> str | None:
        found = finish.next_open(answers, key)
        return found.label if found is not None else None

    assert after({"finish.surprise": "yes"}, "finish.surprise") == "2b"
    assert after({"finish.surprise": "no"}, "finish.surprise") == "3"
    assert after({"finish.surprise": "no", "finish.helpful": None}, "finish.surprise") == "3"
    assert after({"finish.surprise": "no", "finish.helpful": "4"}, "finish.surprise") is None
    assert after({}, "finish.trust") == "2a"
    assert after({}, "finish.helpful") is None
    found = reflect.next_open({"reflect.q6.2": "b"}, "reflect.q6.1")
    assert found is not None and found.label == "6.3"


@pytest.mark.parametrize(
    ("entries", "first", "due"),
    [
        (0, None, False),
        (11, None, False),
        (12, None, True),
        (13, TODAY, True),
        (11, TODAY - dt.timedelta(weeks=12) + dt.timedelta(days=1), False),
        (1, TODAY - dt.timedelta(weeks=12), True),
        (0, TODAY - dt.timedelta(weeks=30), True),
    ],
)
def test_finish_is_due_after_twelve_entries_or_twelve_weeks(
    built_in: Worksheet, entries: int, first: dt.date | None, due: bool
) -> None:
    offer = built_in.section("finish").offer
    assert offer is not None
    assert offer.due(entries, first, TODAY) is due
