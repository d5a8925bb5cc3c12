"""One module per section or feature of the bot, each exposing `build_handler()`."""
