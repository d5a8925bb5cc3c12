"""Telegram-free: the worksheet model and words, dates, parsing, time plans, summary numbers."""
