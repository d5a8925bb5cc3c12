"""Benchmarks: how close the bot is to its limits, measured side by side with baselines.

Run `python -m bench --size smoke|small|full [--only 1,2,...]`; see bench/__main__.py.
"""
