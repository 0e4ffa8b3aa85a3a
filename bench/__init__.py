"""Benchmarks: each module exposes `run() -> dict` returning {"name", "figures", ...}.

They are run by `tdex bench NAME --json`, compare against a peer in the same run, and are not
tests: they measure, they do not assert.
"""
