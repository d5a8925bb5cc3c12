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
            "CPU per update, and most of it is still database round trips, though fewer since the "
            "worksheet-model issue (PROFILE.md): about 8 SQL statements in about 3 transactions "
            "per update, down from 15 in 4.8. The visit reads the person, their one place and "
            "whether the update was handled in one SELECT; the write unit claims the update and "
            "upserts the answer and the place with INSERT ... ON CONFLICT, no SELECT first. What "
            "is left: about one further read in the walk's average update (a tip's marks, which "
            "are an answer and so not kept in the place's plain data; a section's opening reads; "
            "/review; the finish offer's standing after each chart entry) and the per-statement "
            "cost: every statement pays SQLAlchemy's machinery, a greenlet switch and two thread "
            "hops to aiosqlite's worker; SQLAlchemy is still the largest share of the event loop's "
            "own time, and aiosqlite's threads use about a sixth of the CPU on top. The bot's unit "
            "of work alone sustains only ~120-150 answers per second (reference table) against "
            "bare PTB's ~0.25-0.45 ms CPU for a whole update. Not the database file: raw sqlite3 "
            "commits 30,000-50,000 rows per second here. Beyond the database, the walk makes ~1.9 "
            "Bot API calls per update (a button press is answerCallbackQuery + "
            "editMessageReplyMarkup + sendMessage) against bare PTB's 1, and dispatch runs through "
            "15 handler groups."
        ),
        close=(
            "Still open (the speed issue): (1) group commit: one writer owns the write connection "
            "and commits every unit queued meanwhile in one transaction (a savepoint each), each "
            "handler awaiting its own unit's commit before it replies, so every answer is still "
            "committed before its reply; the bench's prototype does the bot's per-answer writes "
            "this way at ~17,000-34,000 units/s and ~30-65 us CPU per unit, about two orders of "
            "magnitude above the bot's unit (reference table). (2) Core statements rather than the "
            "ORM for what is left of the hot path (the visit, the chart row updates). (3) Fewer "
            "thread hops: one thread running whole units on the stdlib driver instead of a hop per "
            "statement. Together these take the database to well under 0.3 ms per update; reaching "
            "0.5 x bare PTB also needs fewer Bot API calls per button press (e.g. one "
            "editMessageText that replaces the keyboard and the text, instead of removing the "
            "keyboard and sending a new message) since PTB's own work for ~1.9 calls per update is "
            "already about 4-5 x a bare echo."
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
            "Deliveries are exact (the ledger claim). bot.pacing counts every message the bot "
            "sends, replies and bulk alike, in one sliding window of 30 a second; a message counts"
            " from when it is let go until a second after its answer came, so network delay "
            "cannot squeeze more than 30 into one of Telegram's seconds: no 429s. Bulk takes at "
            "most 28 of the 30, evenly spread (one each ~36 ms), in the order it arrived; a reply "
            "goes at once when the window has room, else it takes the next place to come free "
            "before any bulk (at most ~36 ms while bulk runs). What limits the burst is then the "
            "30 a second itself: the chatting person's reply steps are two messages each (closing "
            "the old keyboard, sending the next prompt), some 60 during a 300-reminder burst, and "
            "300 + 60 messages in N / 28.5 + 1 s = 11.5 s would be 31 a second, more than "
            "Telegram allows; the bot sends ~29.3-29.6 a second in all, so the burst ends close to "
            "where an even 30 a second would (the table's figure), ~1 s past the goal. Alone, the "
            "burst would go at 28 / 1.01 s, 300 in ~10.8 s (a trial without the chatting person: "
            "10.8 and 10.9 s, no 429). The reply p99 is the burst's first moment, not the pacing: "
            "every reminder is claimed in "
            "its own write transaction, all 300 at one instant, and the chatting person's update "
            "waits behind them for the one write connection: that one reply takes ~1-2 s (the "
            "fake's log shows the bot fetching that update that late, its messages then going at "
            "once); after it, replies take ~20-70 ms, of which the wait for a place in the window "
            "is at most ~36 ms per message."
        ),
        close=(
            "Fewer messages per reply step: one editMessageText that replaces the old prompt and "
            "its keyboard, instead of an edit and a new message, halves what a chatting person "
            "takes of the 30 a second. Claim reminders in batches per tick (one transaction for "
            "all due in the next seconds, with goal 1's group commit) so a person's write never "
            "queues behind hundreds of single-row claims at the burst's start."
        ),
    ),
    "4": Analysis(
        limits=(
            "Per-update cost and start-up barely change with the number of people: every hot query "
            "is by an indexed key (telegram_id, person_id, next_due_at), start-up reads only open "
            "conversation places, and the tick reads only rows due in the next minute. The tick: "
            "since commit 5259fa1 it checks a planned reminder by its job id (a dict lookup; "
            "before, get_jobs_by_name matched every due row against every queued job, O(due x "
            "queued): ~450 ms for 1,000 due, and with 5,000 due a burst planned a few seconds ahead"
            " was never delivered). What is left is the indexed read of the due rows as ORM objects"
            " (~15-25 ms for 1,000) and one APScheduler add_job per reminder; the median is ~50 ms,"
            " and the p99 is the garbage collector: with it off, in the same measurement, the p99 "
            "falls to the median (table). A tick allocates thousands of objects (ORM rows, "
            "DueSchedule, APScheduler jobs), which triggers full collections over everything the "
            "process holds. Memory: since fpdf2 loads only on /export the idle process holds ~95 "
            "MiB, nearly all of it imports made at start (goal 5's import stages: interpreter ~11, "
            "PTB ~33, SQLAlchemy with aiosqlite ~21, settings, storage and operations ~11, Alembic "
            "for the migration check ~9 MiB); traffic that includes a /summary adds matplotlib and "
            "its first figures (~75 MiB), which never leave the process."
        ),
        close=(
            "Tick: allocate less per tick, so it triggers no full collection (gc.freeze() after "
            "start-up alone did not help in a trial): read the due rows with a Core select (tuples,"
            " no ORM objects) and hand them to one dispatcher task with an in-memory heap of due "
            "reminders instead of one APScheduler job each; a heap push is a small tuple and "
            "microseconds, so 1,000 due would cost the read (~10-20 ms) and little else. Memory: "
            "render charts (and PDFs) in a short-lived worker process (ProcessPoolExecutor with "
            "max_tasks_per_child), so matplotlib never stays in the bot; check the schema version "
            "with one SELECT on alembic_version and import Alembic only when an upgrade is due. The"
            " process would then stay near ~85-90 MiB after traffic."
        ),
    ),
    "5": Analysis(
        limits=(
            "A warm /summary is dominated by the chart: matplotlib renders a 1200x800 PNG in "
            "~110-150 ms on the one chart thread, so the p50 is within the goal. Rendering is off "
            "the event loop (a dedicated one-worker executor) but not off the GIL: while a chart "
            "renders, the loop gets the interpreter back only every switch interval (5 ms), and "
            "each of an update's ~15 database round trips hands work to aiosqlite's thread and "
            "back, so every step of another person's update can wait a switch interval several "
            "times over; that is the added delay in the table. Idle memory: ~95 MiB before any "
            "chart, and the import stages show why 64 MiB is out of reach as built: the "
            "interpreter, PTB and SQLAlchemy with aiosqlite alone take ~65 MiB before any of the "
            "bot's code."
        ),
        close=(
            "Render charts in a child process (ProcessPoolExecutor): no GIL shared with the loop, "
            "and matplotlib's memory out of the bot. Fewer round trips per update (goal 1) also "
            "means fewer GIL hand-overs to wait for. For idle memory under 64 MiB: no Alembic at "
            "start unless an upgrade is due (~9 MiB), and a lighter database layer on the hot path "
            "(SQLAlchemy Core without importing the ORM, or the stdlib driver on one writer thread "
            "as in goal 1's group commit) and no pydantic-settings; otherwise a budget of ~90 MiB "
            "is what PTB + SQLAlchemy + the bot need."
        ),
    ),
}
