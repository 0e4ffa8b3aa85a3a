"""``connect``: open a Chain on eth-tester, on a fresh local Anvil node, or on any JSON-RPC URL."""

from __future__ import annotations

import os

from ledger._anvil import AnvilProcess
from ledger._backends import HttpBackend, TesterBackend, parse_url
from ledger._chain import Chain, RetryPolicy
from ledger.errors import Unsupported

__all__ = ["connect"]


def connect(
    target: str = "eth-tester",
    *,
    chain_id: int | None = None,
    poa: bool | None = None,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    anvil_binary: str | os.PathLike[str] | None = None,
    anvil_args: tuple[str, ...] = (),
    receipt_timeout: float = 120.0,
) -> Chain:
    """Open a chain; use the result as a context manager so that it is closed (and Anvil stopped).

    Parameters
    ----------
    target:
        ``"eth-tester"`` (in-process py-evm), ``"anvil"`` (start a local Anvil node on a free
        loopback port, automining) or an ``http(s)://`` JSON-RPC URL (e.g. a Besu QBFT node).
    chain_id:
        Chain id for a new Anvil node (eth-tester's is fixed; a URL's is read from the node).
    poa:
        Force the proof-of-authority handling on or off; detected from the genesis extraData when None.
    timeout:
        Seconds one HTTP request may take.
    retry:
        Retries after transport errors (the default tries 5 times over about 1.5 s).

    Raises
    ------
    BadUrl
        The target is neither a backend name nor a well-formed http(s) URL.
    Unreachable
        Nothing (or no JSON-RPC node) answers at the URL.
    AnvilError
        Anvil could not be found or started.
    """
    if target == "eth-tester":
        if chain_id is not None:
            raise Unsupported("eth-tester has a fixed chain id; use 'anvil' to choose one")
        return Chain(TesterBackend(), kind="eth-tester", name="eth-tester", poa=poa, retry=retry)
    if target == "anvil":
        node = AnvilProcess(chain_id=chain_id, binary=anvil_binary, extra_args=anvil_args)
        node.start()
        try:
            backend = HttpBackend(node.url, timeout=timeout)
            return Chain(
                backend,
                kind="anvil",
                name=node.url,
                anvil=node,
                poa=poa,
                retry=retry,
                receipt_timeout=receipt_timeout,
            )
        except BaseException:
            node.stop()
            raise
    parse_url(target)
    if chain_id is not None:
        raise Unsupported("a chain URL's chain id is read from the node; do not pass chain_id")
    return Chain(
        HttpBackend(target, timeout=timeout),
        kind="rpc",
        name=target,
        poa=poa,
        retry=retry,
        receipt_timeout=receipt_timeout,
    )
