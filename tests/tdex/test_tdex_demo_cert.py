"""The e-certificate and public-credit demo chapter runs after chapter 1 and verifies every step."""

from __future__ import annotations

import io

from rich.console import Console

from tdex.demo import DemoContext, cert_steps, chain_steps


def test_cert_chapter_verifies_every_step_on_the_in_process_chain() -> None:
    """Chapter 1 then the certificate chapter run on eth-tester; every step returns its summary."""
    ctx = DemoContext(backend="eth-tester", console=Console(file=io.StringIO(), color_system=None))
    with ctx.resources:
        for step in chain_steps.STEPS:
            assert step(ctx)
        summaries = [step(ctx) for step in cert_steps.STEPS]
    assert all(summaries)
    assert "suspended" in summaries[3]
    assert "1 certificate, status suspended" in summaries[4]
    assert "617" in summaries[5] and "675" in summaries[5]
    assert "sandbox" in summaries[6]
    assert ctx.state["credit_attestation"]["credentialSubject"]["scoreAtLeast"] == cert_steps.LOAN_THRESHOLD
