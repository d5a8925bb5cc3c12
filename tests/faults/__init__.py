"""Fault tests: break the bot on purpose and prove that nothing is lost (see checks.py)."""
