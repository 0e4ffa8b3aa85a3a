"""The end-to-end demo: a list of steps run in order; every step checks its own outcome.

A step is a function taking the shared `DemoContext`; it returns a one-line description of what
it verified, or raises `DemoStepFailed` naming what did not verify. Later capabilities append
their own step modules to `STEP_MODULES`.
"""

from __future__ import annotations

from tdex.demo._runner import DemoContext, DemoStepFailed, run_demo

__all__ = ["DemoContext", "DemoStepFailed", "run_demo"]
