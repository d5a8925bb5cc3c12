"""The Telegram side: settings, application wiring, update processing and scheduling."""
