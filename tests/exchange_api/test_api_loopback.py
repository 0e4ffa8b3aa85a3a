"""The exchange served on loopback in-process, driven by the signing client over real HTTP."""

from __future__ import annotations

from typing import Any

from api_support import entry, make_uscc

from exchange_api.app import create_app
from exchange_api.chain import FakeChain
from exchange_api.client import ApiProblem, ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.loopback import serve_in_thread
from keys import SigningKey


def test_client_over_http(tmp_path: Any) -> None:
    """A bureau admits a department over HTTP; the department registers; the relay anchors it."""
    bureau_key, dept_key = SigningKey.generate(), SigningKey.generate()
    settings = Settings(
        mode="test",
        database_url=f"sqlite:///{tmp_path}/x.db",
        bureau_uscc=make_uscc(1),
        bureau_public_key=bureau_key.verify_key.did,
        relay_interval_s=0.01,
    )
    chain = FakeChain()
    app = create_app(settings, writer=chain, run_relay=False)
    with (
        serve_in_thread(app) as url,
        ExchangeClient(url, bureau_key) as bureau,
        ExchangeClient(url, dept_key) as dept,
    ):
        bureau.admit(
            {
                "name": "市场监管局",
                "uscc": make_uscc(2),
                "role": "DEPARTMENT",
                "public_keys": [dept_key.verify_key.did],
                "chain_account": "0x" + "11" * 20,
            }
        )
        created = dept.register(entry())
        assert created["provider"]["uscc"] == make_uscc(2)
        try:
            bureau.register(entry("301001/000002"))
        except ApiProblem as problem:
            assert (problem.status, problem.code) == (403, "auth.forbidden")
        else:
            raise AssertionError("the bureau registered a catalogue entry")
    assert app.state.relay.drain().anchored == 2
    assert [e["kind"] for e in chain.effects] == ["member.admit", "catalog.register"]
