"""The worksheet as chat conversations, in layers that point one way, down.

`sections/` (one module per section or feature) use `engines/` (pages, prompts) and `kit/` (what
every step shares); below them, Telegram-free, `worksheet/` (the model, its words from
`content/`, dates, parsing, time plans, summaries' numbers) and `files/` (chart, PDF, tables).
The layers are checked by import-linter (pyproject.toml).
"""
