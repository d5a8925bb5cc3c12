"""Telegram-free: the files a person takes away (chart image, PDF, JSON, CSV)."""
