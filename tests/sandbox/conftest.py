"""Shared sandbox fixtures: a small register, a runner with seeded noise, X25519 key agreement."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import sandbox as sb
from keys import X25519EncryptionKey


@pytest.fixture(scope="session")
def registry() -> sb.TemplateRegistry:
    return sb.default_registry()


@pytest.fixture(scope="session")
def allowed(registry: sb.TemplateRegistry) -> frozenset[str]:
    return frozenset(t.digest for t in registry)


@pytest.fixture
def runner(registry: sb.TemplateRegistry) -> sb.Runner:
    return sb.Runner(registry, rng=sb.SeededRandomSource(7))


@pytest.fixture(scope="session")
def people() -> sb.Table:
    """500 people in three districts with a clamped income; person p0 has an extreme income."""
    rng = np.random.default_rng(3)
    n = 500
    schema = sb.Schema(
        (
            sb.Item("person", "string", identifier=True),
            sb.Item("district", "category", categories=("east", "west", "north", "tiny")),
            sb.Item("employed", "bool"),
            sb.Item("income", "float", lower=0.0, upper=100.0),
        )
    )
    district = rng.choice(["east", "west", "north"], n).tolist()
    district[1:4] = ["tiny"] * 3  # a group far below any k
    income = rng.uniform(10, 90, n)
    income[0] = 100.0
    return sb.Table.from_columns(
        schema,
        {
            "person": [f"p{i}" for i in range(n)],
            "district": district,
            "employed": (rng.random(n) < 0.7).tolist(),
            "income": income,
        },
    )


def x25519_agreement(node_ids: list[str]) -> sb.Agree:
    """Key agreement over X25519 keys from the keys package, one key pair per node."""
    private = {n: X25519EncryptionKey.generate() for n in node_ids}
    per_node = {
        n: sb.x25519_agree(n, private[n], {p: private[p].public_key for p in node_ids if p != n})
        for n in node_ids
    }
    return lambda me, peer: per_node[me](me, peer)


@pytest.fixture(scope="session")
def agreement() -> Callable[[list[str]], sb.Agree]:
    """Builds an `Agree` for a list of node ids (fresh X25519 keys each call)."""
    return x25519_agreement
