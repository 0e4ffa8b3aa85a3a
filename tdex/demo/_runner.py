"""Runs the demo steps in order and reports each one; the exit status says whether all verified."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

# Step modules in the order the story is told. Each exposes `STEPS: list[Step]`.
STEP_MODULES: tuple[str, ...] = (
    "tdex.demo.chain_steps",
    "tdex.demo.exchange_steps",
    "tdex.demo.cert_steps",
    "tdex.demo.sandbox_steps",
    "tdex.demo.console_steps",
    "tdex.demo.audit_steps",
)


class DemoStepFailed(Exception):
    """Raised by a step when what it did does not verify."""


@dataclass
class DemoContext:
    """State shared by the demo steps: the chain backend and whatever earlier steps produced."""

    backend: str
    console: Console
    resources: ExitStack = field(default_factory=ExitStack)
    state: dict[str, Any] = field(default_factory=dict)

    def expect(self, condition: bool, what: str) -> None:
        """Fail the current step with `what` unless `condition` holds."""
        if not condition:
            raise DemoStepFailed(what)


Step = Callable[[DemoContext], str]


def _steps() -> Iterator[tuple[str, Step]]:
    for module_name in STEP_MODULES:
        module = importlib.import_module(module_name)
        for step in module.STEPS:
            yield step.__name__.removeprefix("step_").replace("_", " "), step


def run_demo(backend: str = "anvil", console: Console | None = None) -> int:
    """Run every step; return 0 when all verified, 1 at the first one that did not."""
    out = console or Console()
    ctx = DemoContext(backend=backend, console=out)
    with ctx.resources:
        for number, (title, step) in enumerate(_steps(), start=1):
            started = time.perf_counter()
            try:
                detail = step(ctx)
            except DemoStepFailed as failure:
                out.print(f"[bold red]✗ {number:2d}. {title}[/] — did not verify: {failure}")
                return 1
            except Exception as error:  # a demo step must report, not crash with a trace
                out.print(f"[bold red]✗ {number:2d}. {title}[/] — {type(error).__name__}: {error}")
                return 1
            elapsed = time.perf_counter() - started
            out.print(f"[green]✓[/] {number:2d}. {title} [dim]({elapsed:.2f}s)[/] — {detail}")
    out.print("[bold green]demo complete: every step verified[/]")
    return 0
