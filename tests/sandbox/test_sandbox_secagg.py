"""Secure aggregation: the coordinator gets exactly the sum, survives dropouts, and learns nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sandbox as sb
from sandbox.errors import DropoutUnrecoverable, ProtocolViolation, StateInvalid


def _round(
    clients: dict[str, sb.SecAggClient],
    config: sb.RoundConfig,
    vectors: dict[str, np.ndarray],
    *,
    drop_before_shares: Sequence[str] = (),
    drop_before_input: Sequence[str] = (),
    drop_before_unmask: Sequence[str] = (),
) -> tuple[np.ndarray, tuple[str, ...]]:
    coordinator = sb.SecAggCoordinator(config)
    shares = [clients[i].share_keys(config) for i in config.participants if i not in drop_before_shares]
    deliveries = coordinator.collect_shares(shares)
    masked = [clients[i].mask(deliveries[i], vectors[i]) for i in deliveries if i not in drop_before_input]
    request = coordinator.collect_masked(masked)
    answers = [clients[i].unmask(request) for i in request.survivors if i not in drop_before_unmask]
    return coordinator.finish(answers), request.survivors


Agreement = Callable[[list[str]], sb.Agree]


def _clients(n: int, agreement: Agreement) -> dict[str, sb.SecAggClient]:
    ids = [f"dept-{i}" for i in range(n)]
    agree = agreement(ids)
    return {i: sb.SecAggClient(i, agree) for i in ids}


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 5),
    dim=st.integers(1, 6),
    data=st.data(),
)
def test_masked_sum_equals_plain_sum_with_dropouts(
    agreement: Agreement, n: int, dim: int, data: st.DataObject
) -> None:
    """Whatever the vectors and whichever nodes drop (leaving t), the unmasked sum is the survivors' sum."""
    clients = _clients(n, agreement)
    ids = tuple(sorted(clients))
    t = n // 2 + 1
    vectors = {
        i: np.array(data.draw(st.lists(st.floats(-1e4, 1e4), min_size=dim, max_size=dim))) for i in ids
    }
    dropped = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=n - t))
    late = [i for i in ids if i not in dropped][: max(0, n - len(dropped) - t)]
    config = sb.RoundConfig(f"r-{n}-{dim}", ids, t, dim)
    total, survivors = _round(clients, config, vectors, drop_before_input=dropped, drop_before_unmask=late)
    assert set(survivors) == set(ids) - set(dropped)
    expected = sum(vectors[i] for i in survivors)
    assert np.allclose(total, expected, atol=len(ids) * 2.0**-23)


def test_a_masked_input_alone_looks_random(agreement: Agreement) -> None:
    """The coordinator's view of one node is not its encoded input, and changes every round."""
    clients = _clients(3, agreement)
    ids = tuple(sorted(clients))
    x = np.ones(16)
    seen = []
    for r in range(2):
        config = sb.RoundConfig(f"round-{r}", ids, 2, 16)
        coordinator = sb.SecAggCoordinator(config)
        deliveries = coordinator.collect_shares([clients[i].share_keys(config) for i in ids])
        seen.append(clients[ids[0]].mask(deliveries[ids[0]], x).masked)
    encoded = sb.FixedPoint().encode(x, 3)
    assert not np.any(seen[0] == encoded)
    assert not np.any(seen[0] == seen[1])


@pytest.mark.parametrize("phase", ["shares", "input", "unmask"])
def test_too_many_dropouts_are_unrecoverable(agreement: Agreement, phase: str) -> None:
    """Below the threshold in any phase the round fails with DropoutUnrecoverable, never a wrong sum."""
    clients = _clients(3, agreement)
    ids = tuple(sorted(clients))
    config = sb.RoundConfig(f"r-{phase}", ids, 2, 4)
    vectors = {i: np.ones(4) for i in ids}
    kwargs: dict[str, Any] = {
        "shares": {"drop_before_shares": ids[:2]},
        "input": {"drop_before_input": ids[:2]},
        "unmask": {"drop_before_input": ids[:1], "drop_before_unmask": ids[1:2]},
    }[phase]
    with pytest.raises(DropoutUnrecoverable) as exc:
        _round(clients, config, vectors, **kwargs)
    assert exc.value.code == "sandbox.dropout_unrecoverable"


def _started(
    agreement: Agreement, n: int = 3
) -> tuple[dict[str, sb.SecAggClient], sb.SecAggCoordinator, dict[str, sb.SharesDelivery]]:
    clients = _clients(n, agreement)
    ids = tuple(sorted(clients))
    config = sb.RoundConfig("r", ids, n // 2 + 1, 2)
    coordinator = sb.SecAggCoordinator(config)
    return clients, coordinator, coordinator.collect_shares([clients[i].share_keys(config) for i in ids])


def test_nodes_never_reveal_both_kinds_of_share(agreement: Agreement) -> None:
    """A request naming a node as both survivor and dropped, or outside the active set, is refused."""
    clients, _, deliveries = _started(agreement)
    ids = tuple(sorted(clients))
    for i in ids:
        clients[i].mask(deliveries[i], np.zeros(2))
    node = clients[ids[0]]
    for survivors, dropped in ((ids, ids[1:2]), (ids[:2], ()), ((*ids, "x"), ())):
        with pytest.raises(ProtocolViolation) as exc:
            node.unmask(sb.UnmaskRequest("r", survivors, dropped))
        assert exc.value.code == "sandbox.protocol_violation"
    node.unmask(sb.UnmaskRequest("r", ids, ()))
    with pytest.raises(ProtocolViolation):
        node.unmask(sb.UnmaskRequest("r", ids[:2], ids[2:]))


def test_tampered_or_rerouted_shares_are_refused(agreement: Agreement) -> None:
    """Shares that do not open with the pair key (flipped bit, or meant for another node) are refused."""
    clients, _, deliveries = _started(agreement)
    ids = tuple(sorted(clients))
    a, b, c = ids
    flipped = bytearray(deliveries[a].sealed[b])
    flipped[-1] ^= 1
    with pytest.raises(ProtocolViolation):
        clients[a].mask(
            replace(deliveries[a], sealed={**deliveries[a].sealed, b: bytes(flipped)}), np.zeros(2)
        )
    rerouted = {b: deliveries[c].sealed[b], c: deliveries[a].sealed[c]}
    with pytest.raises(ProtocolViolation):
        clients[a].mask(replace(deliveries[a], sealed=rerouted), np.zeros(2))


def test_round_configs_are_checked(agreement: Agreement) -> None:
    """A threshold of half or less, duplicate participants, or an outsider are protocol violations."""
    clients = _clients(4, agreement)
    ids = tuple(sorted(clients))
    for bad in (
        sb.RoundConfig("r", ids, 2, 3),
        sb.RoundConfig("r", (ids[0], ids[0], ids[1]), 2, 3),
        sb.RoundConfig("r", ids[1:], 2, 3),
    ):
        with pytest.raises(ProtocolViolation):
            clients[ids[0]].share_keys(bad)


MESSAGES: list[Callable[[], Any]] = [
    lambda: sb.RoundConfig("r", ("a", "b", "c"), 2, 5, 20, 48),
    lambda: sb.ShareKeys("r", "a", {"b": b"\x00\x01", "c": b"\xff"}),
    lambda: sb.SharesDelivery("r", "a", ("a", "b"), {"b": b"abc"}),
    lambda: sb.MaskedInput("r", "a", np.array([0, 2**64 - 1, 7], dtype=np.uint64)),
    lambda: sb.PlainInput("r", "a", np.array([0.5, -1.25])),
    lambda: sb.UnmaskRequest("r", ("a", "b"), ("c",)),
    lambda: sb.UnmaskResponse("r", "a", {"a": sb.Share(1, 2**300)}, {"c/a": sb.Share(1, 5)}),
]


@pytest.mark.parametrize("make", MESSAGES)
def test_messages_round_trip_through_json(make: Callable[[], Any]) -> None:
    """Every message survives to_dict → JSON → from_dict unchanged."""
    message = make()
    again = type(message).from_dict(json.loads(json.dumps(message.to_dict())))
    for field in message.__dataclass_fields__:
        left, right = getattr(message, field), getattr(again, field)
        if isinstance(left, np.ndarray):
            assert np.array_equal(left, right) and left.dtype == right.dtype
        else:
            assert left == right


@pytest.mark.parametrize("make", MESSAGES)
def test_malformed_messages_are_state_invalid(make: Callable[[], Any]) -> None:
    """A message of the wrong kind, version or shape is refused with StateInvalid."""
    cls = type(make())
    good = make().to_dict()
    for bad in ({**good, "kind": "nope"}, {**good, "version": 2}, {"kind": good["kind"], "version": 1}):
        with pytest.raises(StateInvalid) as exc:
            cls.from_dict(bad)
        assert exc.value.code == "sandbox.state_invalid"
