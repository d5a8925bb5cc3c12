"""What limits each goal and what would close the gap, from the profile and the figures.

These sentences are written from bench/PROFILE.md and the measured tables (the code paths they
name are the bot's); RESULTS.md shows "what would close the gap" only for goals not met.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Analysis:
    """Why a goal stands where it does."""

    limits: str
    close: str


ANALYSIS: dict[str, Analysis] = {
    "1": Analysis(
        limits=(
            "CPU per update, and almost all of it is database round trips. Each update of the walk "
            "runs about 15 SQL statements in about 4.8 transactions (PROFILE.md): 3.8 read sessions"
            " (PerChatUpdateProcessor's `already_handled` reads `processed_update` for every "
            "update; the consent gate reads `person`; sections read positions, answers and "
            "sessions) and one write unit that itself selects the person and the `processed_update`"
            " row before inserting it, then gets-then-modifies the answer and the place through the"
            " ORM. Every statement pays SQLAlchemy's ORM machinery, a greenlet switch and two "
            "thread hops to aiosqlite's worker: SQLAlchemy is the largest share of the event loop's"
            " own time in the profile, and aiosqlite's threads use about a fifth to a quarter of "
            "the CPU on top. The bot's unit of work alone sustains only ~120-250 answers per second"
            " (reference table), i.e. 4-8 ms, against bare PTB's ~0.25-0.35 ms CPU for a whole "
            "update. Not the database file: raw sqlite3 commits ~50,000 rows per second here. "
            "Beyond the database, the walk makes ~1.9 Bot API calls per update (a button press is "
            "answerCallbackQuery + editMessageReplyMarkup + sendMessage) against bare PTB's 1, and "
            "dispatch runs through 15 handler groups; PTB's share of the profile (~10 % of the "
            "loop's samples, ~13 % of its busy time) puts that floor near 1.2 ms even with a free "
            "database."
        ),
        close=(
            "In the bot (not changed here, measured only): (1) group commit: one writer owns the "
            "write connection and commits every unit queued meanwhile in one transaction (a "
            "savepoint each), each handler awaiting its own unit's commit before it replies, so "
            "every answer is still committed before its reply; the bench's prototype does the bot's"
            " per-answer writes this way at ~17,000-28,000 units/s and ~35-65 us CPU per unit, "
            "about two orders of magnitude above the bot's unit (reference table). (2) Core "
            "statements on the hot path: `INSERT ... ON CONFLICT DO UPDATE` for the answer and the "
            "place, and the update claim as the INSERT itself (its primary key rejects a "
            "duplicate), instead of SELECT-then-modify through the ORM. (3) No reads per update "
            "that memory already knows: drop the processor's `already_handled` read (the claim in "
            "the write rejects redelivered updates; updates that write nothing are harmless to "
            "repeat) or keep recent ids in memory; cache PersonInfo for the consent gate and the "
            "unit (invalidate on consent, settings, deletion); keep each section's small position "
            "data (message id, entry uid) in memory with write-through, as PTB already keeps the "
            "state. (4) Fewer thread hops: one thread running whole units on the stdlib driver "
            "instead of a hop per statement. Together these take the database to well under 0.3 ms "
            "per update; reaching 0.5 x bare PTB also needs fewer Bot API calls per button press "
            "(e.g. one editMessageText that replaces the keyboard and the text, instead of removing"
            " the keyboard and sending a new message) since PTB's own work for ~1.9 calls per "
            "update is already about 4-5 x a bare echo."
        ),
    ),
    "2": Analysis(
        limits=(
            "The same CPU cost as goal 1, not the round trip: with 50 ms per call and 256 updates "
            "in flight the bot would wait on at most ~5,000 calls/s, yet it is already using about "
            "one CPU-second per second (updates/s x CPU per update in the table). One Python "
            "process runs the event loop and, under the same GIL, aiosqlite's threads; the ceiling "
            "is 1 / (CPU per update). Bare PTB with concurrent updates shows what the framework "
            "alone reaches with the same round trip. Updates were never lost, duplicated or "
            "reordered (PerChatUpdateProcessor's per-chat FIFO locks)."
        ),
        close=(
            "1,000 updates/s on one process needs CPU per update below ~1 ms, i.e. goal 1's changes"
            " (group commit, Core upserts, no per-update reads, fewer hops) and fewer Bot API calls"
            " per button press. Beyond one core: several bot processes behind a webhook, each "
            "owning a shard of chats (a person's updates always to the same process keeps them in "
            "order), on PostgreSQL instead of one SQLite writer."
        ),
    ),
    "3": Analysis(
        limits=(
            "Deliveries are exact (the ledger claim) and the pace is right, but pacing ignores "
            "replies. bot.pacing.Pacer reserves every bulk slot up front (N reminders take slots up"
            " to N / 28.6 s ahead as soon as their jobs fire), and a reply to a person is sent at "
            "once and only pushes back the next *unreserved* slot, at the end of the queue; so each"
            " reply during the burst comes on top of ~28.6 bulk sends per second, a one-second "
            "window fills past 30 and Telegram (the fake) answers 429. Then the Pacer holds *every*"
            " send, replies included, until retry_after (1 s), and a reply that got the 429 itself "
            "is retried after it: that is why the chatting person's slow replies (0.6-2 s) are "
            "spread over the whole burst, not only its start. The pace leaves little slack against "
            "the deadline (N / 28.5 - N / 28.6 + 1 s: 1.6 s at 5,000), so a few such pauses cost "
            "it. Each reminder is also two write transactions (claim, then finish) on the one write"
            " connection, and all claims queue at the same instant, so a person's own write waits "
            "behind them at the start of the burst."
        ),
        close=(
            "A limiter that counts what was really sent: one sliding one-second window shared by "
            "replies and bulk, bulk taking a send only when the window has room and leaving a "
            "reserve for replies (e.g. bulk at 28/s minus the replies of the last second), and no "
            "slots reserved far ahead (a single dispatcher task hands out bulk sends in due order, "
            "so a reply really displaces one). With no 429 there is no retry_after pause for "
            "replies. Claim reminders in batches per tick (one transaction for all due in the next "
            "seconds, with goal 1's group commit) so a person's write never queues behind thousands"
            " of single-row transactions."
        ),
    ),
    "4": Analysis(
        limits=(
            "Per-update cost and start-up barely change with the number of people: every hot query "
            "is by an indexed key (telegram_id, person_id, next_due_at), start-up reads only open "
            "conversation places, and the tick reads only rows due in the next minute. Two things "
            "do not fit. (a) The tick: for each due row bot.reminders.tick calls "
            "`job_queue.get_jobs_by_name(name)`, which in PTB lists every APScheduler job, wraps "
            "each and compiles and matches a regex per job: O(due x queued), ~1.5 million matches "
            "for 1,000 due (cProfile: over 90 % of the tick), and then one APScheduler `add_job` "
            "per reminder (~0.13 ms each). (b) Memory: the idle process already holds ~125 MiB "
            "because everything is imported at start (see goal 5's import stages): PTB ~35 MiB, "
            "SQLAlchemy and aiosqlite ~20 MiB, settings and storage ~11 MiB, and bot.app brings "
            "fpdf2 with numpy, Pillow and fontTools for /export (~35 MiB, ~0.4 s), Alembic for the "
            "migration check ~8 MiB; the first /summary adds matplotlib (~35-80 MiB, never "
            "released)."
        ),
        close=(
            "Tick: remember the names already planned in a set (or give each job its name as "
            "APScheduler id and ask `scheduler.get_job(id)`), making the check O(1); better, one "
            "dispatcher task with an in-memory heap of due reminders instead of one APScheduler job"
            " each (a heap push is microseconds, so 1,000 due cost ~1-2 ms plus the indexed read). "
            "Memory: import fpdf2 inside the export function (as bot/chart.py does for matplotlib);"
            " check the schema version with one SELECT on alembic_version and import Alembic only "
            "when an upgrade is due; render charts (and PDFs) in a short-lived worker process "
            "(ProcessPoolExecutor with max_tasks_per_child) so matplotlib never stays in the bot's "
            "memory. That brings the idle process near PTB + SQLAlchemy + settings (~75 MiB) and "
            "keeps it there after traffic."
        ),
    ),
    "5": Analysis(
        limits=(
            "A warm /summary is dominated by the chart: matplotlib renders a 1200x800 PNG in "
            "~100-150 ms on the one chart thread. Rendering is off the event loop (a dedicated "
            "one-worker executor) but not off the GIL: while a chart renders, the loop gets the "
            "interpreter back only every switch interval (5 ms), and each of an update's ~15 "
            "database round trips hands work to aiosqlite's thread and back, so every step of "
            "another person's update can wait a switch interval; that is the added delay in the "
            "table. Idle memory is goal 4's: ~125 MiB before any chart, from imports at start (the "
            "import-stage row shows which)."
        ),
        close=(
            "Render charts in a child process (ProcessPoolExecutor): no GIL shared with the loop, "
            "and matplotlib's memory out of the bot. Fewer round trips per update (goal 1) also "
            "means fewer GIL hand-overs to wait for. For idle memory: goal 4's lazy imports (fpdf2 "
            "at /export, Alembic only to upgrade); the 64 MiB goal is below what PTB + SQLAlchemy +"
            " aiosqlite already take (~65 MiB with the interpreter), so meeting it also needs "
            "trimming those imports (e.g. aiosqlite + Core without the ORM, or the stdlib driver on"
            " a thread) or a higher budget."
        ),
    ),
}
