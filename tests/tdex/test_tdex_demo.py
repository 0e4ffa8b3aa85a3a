"""The demo runs end to end and fails loudly when a step does not verify."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tdex.demo import DemoContext, DemoStepFailed, _runner, run_demo


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None), buffer


def test_demo_verifies_every_step_on_the_in_process_chain() -> None:
    """`tdex demo --backend eth-tester` runs every step and exits 0."""
    console, buffer = _console()
    assert run_demo(backend="eth-tester", console=console) == 0, buffer.getvalue()
    assert "demo complete: every step verified" in buffer.getvalue()
    assert "not shareable resource is refused" in buffer.getvalue()


@pytest.mark.anvil
def test_demo_verifies_every_step_on_anvil() -> None:
    """The default demo backend (a local Anvil node) verifies every step too."""
    console, buffer = _console()
    assert run_demo(backend="anvil", console=console) == 0, buffer.getvalue()


def test_a_step_that_does_not_verify_makes_the_demo_exit_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed expectation stops the demo with exit status 1 and names what did not verify."""

    def step_that_fails(ctx: DemoContext) -> str:
        ctx.expect(False, "the answer is 42")
        return "unreachable"

    def step_never_reached(ctx: DemoContext) -> str:
        raise AssertionError("steps after a failure must not run")

    monkeypatch.setattr(
        _runner, "_steps", lambda: iter([("fails", step_that_fails), ("later", step_never_reached)])
    )
    console, buffer = _console()
    assert run_demo(backend="eth-tester", console=console) == 1
    assert "did not verify: the answer is 42" in buffer.getvalue()


def test_expect_raises_demo_step_failed() -> None:
    """`DemoContext.expect` raises DemoStepFailed carrying the description."""
    console, _ = _console()
    ctx = DemoContext(backend="eth-tester", console=console)
    with pytest.raises(DemoStepFailed, match="chain answers"):
        ctx.expect(False, "chain answers")
