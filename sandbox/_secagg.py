"""Secure aggregation (after Bonawitz et al., CCS 2017, simplified for an honest-but-curious coordinator).

Each node adds to its fixed-point vector (mod 2^k) a self-mask PRG(b_i) and, for every other
active node j, ±PRG(s_ij), where s_ij is derived from the pair's agreed key and the round id (fresh
masks each round: reusing a mask across rounds would reveal differences of updates). Pairwise
masks cancel in the sum; the coordinator removes the self-masks of nodes whose input arrived and
the dangling pairwise masks of nodes that dropped after sharing, both reconstructed from Shamir
shares (t of n) that every node distributed, sealed with the pair key, at the start of the round.
An honest node reveals, for any peer, shares of its self-mask seed or of its pair seeds, never
both, so the coordinator never holds enough to unmask one node's input.

Key agreement is injected: ``agree(my_id, peer_id) -> 32 bytes``, symmetric; `x25519_agree`
builds it from `keys`. Masks are expanded with SHAKE-256; shares are sealed with PyNaCl's
XSalsa20-Poly1305 SecretBox (`keys` does not yet export a symmetric AEAD; when it does, this is
the one call to move).

Differences from the paper: no signatures or consistency round (the coordinator is assumed to
follow the protocol; a malicious one could lie about who dropped, which the node-side check that
survivors and dropped nodes are disjoint only partly prevents), and pair seeds are Shamir-shared
directly because the key agreement is a callable, not a shareable private key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from keys import X25519EncryptionKey, X25519PublicEncryptionKey, x25519_shared_key
from sandbox._fixedpoint import FixedPoint
from sandbox._messages import (
    MaskedInput,
    RoundConfig,
    ShareKeys,
    SharesDelivery,
    UnmaskRequest,
    UnmaskResponse,
)
from sandbox._shamir import Share, reconstruct_bytes, split_bytes
from sandbox.errors import DropoutUnrecoverable, InvalidParameters, ProtocolViolation, SharesInsufficient

__all__ = ["Agree", "SecAggClient", "SecAggCoordinator", "prg_mask", "x25519_agree"]

Agree = Callable[[str, str], bytes]
U64 = npt.NDArray[np.uint64]
_LABEL = b"tdex/secagg/v1/"


def x25519_agree(
    node_id: str, private: X25519EncryptionKey, peers: Mapping[str, X25519PublicEncryptionKey]
) -> Agree:
    """The node's `Agree` over X25519 (from `keys`): one HKDF-derived key per pair, same on both sides."""

    def agree(me: str, peer: str) -> bytes:
        if me != node_id or peer not in peers:
            raise ProtocolViolation(f"no X25519 key for the pair {me!r}/{peer!r}")
        return x25519_shared_key(private, peers[peer], b"tdex/secagg/v1/pair")

    return agree


def prg_mask(seed: bytes, dimension: int) -> U64:
    """`dimension` uniform uint64 words from SHAKE-256 of `seed`."""
    return np.frombuffer(hashlib.shake_256(seed).digest(8 * dimension), dtype="<u8").astype(np.uint64)


def _derive(pair_key: bytes, purpose: bytes, round_id: str) -> bytes:
    return hmac.new(pair_key, _LABEL + purpose + b"|" + round_id.encode(), hashlib.sha256).digest()


def _check_config(config: RoundConfig) -> None:
    n = len(config.participants)
    if len(set(config.participants)) != n or not 1 <= config.threshold <= n:
        raise ProtocolViolation("participants must be distinct and 1 <= threshold <= participants")
    # With fewer than half, two disjoint groups could each unmask a different sum.
    if config.threshold * 2 <= n and n > 1:
        raise ProtocolViolation("threshold must exceed half of the participants")
    if config.dimension < 1:
        raise ProtocolViolation("dimension must be positive")


@dataclass
class _RoundState:
    config: RoundConfig
    self_seed: bytes
    pair_seeds: dict[str, bytes]
    received: dict[str, tuple[Share, dict[str, Share]]] = field(default_factory=dict)
    active: tuple[str, ...] = ()
    answered: bool = False


class SecAggClient:
    """A node's side of the protocol; holds its seeds and the shares peers sent it, per round."""

    def __init__(self, node_id: str, agree: Agree) -> None:
        self.node_id = node_id
        self._agree = agree
        self._pair_keys: dict[str, bytes] = {}
        self._boxes: dict[tuple[str, str], SecretBox] = {}
        self._rounds: dict[str, _RoundState] = {}

    def _pair_key(self, peer: str) -> bytes:
        key = self._pair_keys.get(peer)
        if key is None:
            key = bytes(self._agree(self.node_id, peer))
            if len(key) != 32:
                raise InvalidParameters("agree", "the key agreement must return 32 bytes")
            self._pair_keys[peer] = key
        return key

    def _box(self, peer: str, round_id: str) -> SecretBox:
        box = self._boxes.get((peer, round_id))
        if box is None:
            box = self._boxes[(peer, round_id)] = SecretBox(
                _derive(self._pair_key(peer), b"share-seal", round_id)
            )
        return box

    def share_keys(self, config: RoundConfig) -> ShareKeys:
        """Start a round: pick the self-mask seed, derive pair seeds, send sealed shares of both."""
        _check_config(config)
        if self.node_id not in config.participants:
            raise ProtocolViolation(f"{self.node_id!r} is not a participant of round {config.round_id!r}")
        if config.round_id in self._rounds:
            raise ProtocolViolation(f"round {config.round_id!r} already started")
        peers = [p for p in config.participants if p != self.node_id]
        state = _RoundState(
            config=config,
            self_seed=os.urandom(32),
            pair_seeds={p: _derive(self._pair_key(p), b"pair-mask", config.round_id) for p in peers},
        )
        self._rounds[config.round_id] = state
        n, t = len(config.participants), config.threshold
        self_shares = split_bytes(state.self_seed, n, t)
        pair_shares = {p: split_bytes(s, n, t) for p, s in state.pair_seeds.items()}
        sealed: dict[str, bytes] = {}
        for idx, holder in enumerate(config.participants):
            payload = {
                "round_id": config.round_id,
                "from": self.node_id,
                "to": holder,
                "self": self_shares[idx].to_list(),
                "pairs": {p: shares[idx].to_list() for p, shares in pair_shares.items()},
            }
            plaintext = json.dumps(payload, sort_keys=True).encode()
            if holder == self.node_id:
                state.received[self.node_id] = _parse_bundle(plaintext, config.round_id, self.node_id, holder)
            else:
                sealed[holder] = self._box(holder, config.round_id).encrypt(plaintext)
        return ShareKeys(config.round_id, self.node_id, sealed)

    def mask(self, delivery: SharesDelivery, vector: npt.ArrayLike) -> MaskedInput:
        """Open the shares addressed to this node and return its vector masked for the active set."""
        state = self._state(delivery.round_id)
        config = state.config
        if delivery.recipient != self.node_id or self.node_id not in delivery.active:
            raise ProtocolViolation("delivery is not for this node")
        if not set(delivery.active) <= set(config.participants) or len(delivery.active) < config.threshold:
            raise ProtocolViolation(
                "the active set must be at least the threshold and within the participants"
            )
        if state.active:
            raise ProtocolViolation("this round's input was already sent")
        for sender in delivery.active:
            if sender == self.node_id:
                continue
            blob = delivery.sealed.get(sender)
            if blob is None:
                raise ProtocolViolation(f"no shares from active node {sender!r}")
            try:
                plaintext = self._box(sender, config.round_id).decrypt(blob)
            except CryptoError:
                raise ProtocolViolation(f"shares from {sender!r} do not open with the pair key") from None
            state.received[sender] = _parse_bundle(plaintext, config.round_id, sender, self.node_id)
        state.active = tuple(delivery.active)
        fp = FixedPoint(config.frac_bits, config.modulus_bits)
        x = np.asarray(vector, dtype=np.float64)
        if x.shape != (config.dimension,):
            raise ProtocolViolation(f"vector has shape {x.shape}, round expects ({config.dimension},)")
        y = fp.add(
            fp.encode(x, summands=len(config.participants)), prg_mask(state.self_seed, config.dimension)
        )
        for peer in delivery.active:
            if peer == self.node_id:
                continue
            m = prg_mask(state.pair_seeds[peer], config.dimension)
            y = fp.add(y, m) if self.node_id < peer else fp.sub(y, m)
        return MaskedInput(config.round_id, self.node_id, y)

    def unmask(self, request: UnmaskRequest) -> UnmaskResponse:
        """Reveal shares: of self-mask seeds for survivors, of pair seeds for dropped nodes; never both."""
        state = self._state(request.round_id)
        survivors, dropped = set(request.survivors), set(request.dropped)
        if state.answered:
            raise ProtocolViolation("already answered this round's unmask request")
        if survivors & dropped or (survivors | dropped) != set(state.active):
            raise ProtocolViolation("survivors and dropped nodes must partition the active set")
        if self.node_id not in survivors or len(survivors) < state.config.threshold:
            raise ProtocolViolation("too few survivors, or this node is not one of them")
        state.answered = True
        self_shares = {s: state.received[s][0] for s in request.survivors}
        pair_shares = {
            f"{u}/{v}": state.received[u][1][v] for u in request.dropped for v in request.survivors
        }
        # The seeds are no longer needed; dropping them limits what a later compromise reveals.
        state.self_seed = b""
        state.pair_seeds.clear()
        for peer in state.config.participants:
            self._boxes.pop((peer, request.round_id), None)
        return UnmaskResponse(request.round_id, self.node_id, self_shares, pair_shares)

    def _state(self, round_id: str) -> _RoundState:
        try:
            return self._rounds[round_id]
        except KeyError:
            raise ProtocolViolation(f"unknown round {round_id!r}") from None


def _parse_bundle(
    plaintext: bytes, round_id: str, sender: str, recipient: str
) -> tuple[Share, dict[str, Share]]:
    try:
        data = json.loads(plaintext)
        if (data["round_id"], data["from"], data["to"]) != (round_id, sender, recipient):
            raise ProtocolViolation("sealed shares were addressed to another round or node")
        return Share.from_list(data["self"]), {p: Share.from_list(v) for p, v in data["pairs"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolViolation(f"malformed shares from {sender!r}: {exc}") from None


class SecAggCoordinator:
    """The coordinator's side of one round. It relays sealed shares and learns only the sum."""

    def __init__(self, config: RoundConfig) -> None:
        _check_config(config)
        self.config = config
        self._fp = FixedPoint(config.frac_bits, config.modulus_bits)
        self._active: tuple[str, ...] = ()
        self._masked: dict[str, U64] = {}
        self._request: UnmaskRequest | None = None

    def collect_shares(self, messages: Sequence[ShareKeys]) -> dict[str, SharesDelivery]:
        """Route sealed shares; the senders form the active set. Returns one delivery per active node."""
        cfg = self.config
        by_sender = {m.sender: m for m in messages if m.round_id == cfg.round_id}
        active = tuple(p for p in cfg.participants if p in by_sender)
        if len(active) < cfg.threshold:
            raise DropoutUnrecoverable(len(active), cfg.threshold)
        self._active = active
        return {
            r: SharesDelivery(cfg.round_id, r, active, {s: by_sender[s].sealed[r] for s in active if s != r})
            for r in active
        }

    def collect_masked(self, messages: Sequence[MaskedInput]) -> UnmaskRequest:
        """Take masked inputs; those that arrived are the survivors, the rest of the active set dropped."""
        cfg = self.config
        for m in messages:
            if m.round_id != cfg.round_id or m.sender not in self._active:
                raise ProtocolViolation(f"unexpected masked input from {m.sender!r}")
            if m.masked.shape != (cfg.dimension,):
                raise ProtocolViolation(f"masked input from {m.sender!r} has the wrong length")
            self._masked[m.sender] = m.masked
        survivors = tuple(p for p in self._active if p in self._masked)
        if len(survivors) < cfg.threshold:
            raise DropoutUnrecoverable(len(survivors), cfg.threshold)
        dropped = tuple(p for p in self._active if p not in self._masked)
        self._request = UnmaskRequest(cfg.round_id, survivors, dropped)
        return self._request

    def finish(self, responses: Sequence[UnmaskResponse]) -> npt.NDArray[np.float64]:
        """Reconstruct the masks from at least t responses; return the decoded sum of survivors' vectors."""
        cfg, req = self.config, self._request
        if req is None:
            raise ProtocolViolation("finish called before the masked inputs were collected")
        answers = [r for r in responses if r.round_id == cfg.round_id and r.sender in req.survivors]
        if len({r.sender for r in answers}) < cfg.threshold:
            raise DropoutUnrecoverable(len(answers), cfg.threshold)
        t = cfg.threshold
        total = np.zeros(cfg.dimension, dtype=np.uint64)
        try:
            for s in req.survivors:
                total = self._fp.add(total, self._masked[s])
                seed = reconstruct_bytes([r.self_shares[s] for r in answers if s in r.self_shares], t)
                total = self._fp.sub(total, prg_mask(seed, cfg.dimension))
            for u in req.dropped:
                for v in req.survivors:
                    key = f"{u}/{v}"
                    seed = reconstruct_bytes([r.pair_shares[key] for r in answers if key in r.pair_shares], t)
                    # Survivor v added +PRG(s_uv) if v < u, else subtracted it; undo that.
                    m = prg_mask(seed, cfg.dimension)
                    total = self._fp.sub(total, m) if v < u else self._fp.add(total, m)
        except SharesInsufficient as exc:
            raise DropoutUnrecoverable(exc.got, t) from None
        return self._fp.decode(total)

    @property
    def survivors(self) -> tuple[str, ...]:
        """Nodes whose input is in the sum (after `collect_masked`)."""
        return self._request.survivors if self._request else ()


def plain_sum(vectors: Mapping[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    """The insecure baseline: the coordinator sees every vector and adds them."""
    out: npt.NDArray[np.float64] = np.sum(np.stack(list(vectors.values())), axis=0)
    return out
