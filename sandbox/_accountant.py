"""Per-grant privacy budget: each query's cost is charged before it runs; a query over budget is refused.

Two kinds of cost compose here. Pure ε-DP releases (Laplace, the private aggregates) add up their
ε exactly. Gaussian releases (DP federated rounds) are charged in zero-concentrated DP: their ρ add
up, which is much tighter over many rounds than adding per-round (ε, δ). The grant's guarantee is
(ε_pure + ε(ρ_total, δ), δ)-DP with ε(ρ, δ) = ρ + 2·sqrt(ρ·ln(1/δ)) (Bun & Steinke 2016), and a
charge is refused when that would exceed the grant's ε. Composition is sequential and holds for
adaptively chosen queries, which is what a requester can send: repeating a query or slicing it into
differences is charged like any other query.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sandbox._dp import zcdp_to_approx_dp
from sandbox.errors import BudgetExceeded, InvalidParameters, StateInvalid

__all__ = ["BudgetAccountant", "Charge", "PrivacyCost"]

_KIND = "tdex.sandbox.budget"
_VERSION = 1


def _exact(x: float) -> Fraction:
    # Through the shortest repr, 0.1 becomes exactly 1/10, so ten charges of 0.1 spend exactly 1.0
    # and the last one is not refused by rounding error.
    return Fraction(repr(float(x)))


@dataclass(frozen=True)
class PrivacyCost:
    """What one run spends: pure ε (Laplace) and ρ of zero-concentrated DP (Gaussian)."""

    epsilon: float = 0.0
    rho: float = 0.0

    def __post_init__(self) -> None:
        for v in (self.epsilon, self.rho):
            if not (math.isfinite(v) and v >= 0):
                raise InvalidParameters("epsilon", "privacy costs are finite and non-negative")


@dataclass(frozen=True)
class Charge:
    """One entry of the accountant's ledger."""

    label: str
    epsilon: float
    rho: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"label": self.label, "epsilon": self.epsilon, "rho": self.rho}


class BudgetAccountant:
    """The privacy budget (ε, δ) of one grant.

    The state is serialisable (`to_dict` / `from_dict`) so a node can persist it; a node must
    persist after `charge` and before releasing the result, so a crash cannot refund a query.
    """

    def __init__(self, grant_id: str, epsilon: float, delta: float = 1e-6) -> None:
        if not (math.isfinite(epsilon) and epsilon >= 0 and 0 < delta < 1):
            raise InvalidParameters("budget", "need a finite ε >= 0 and 0 < δ < 1")
        self.grant_id = grant_id
        self.delta = float(delta)
        self._budget = _exact(epsilon)
        self._eps = Fraction(0)
        self._rho = Fraction(0)
        self._ledger: list[Charge] = []
        self._lock = threading.Lock()

    def _total(self, eps: Fraction, rho: Fraction) -> float:
        return float(eps) + zcdp_to_approx_dp(float(rho), self.delta)

    def _fits(self, eps: Fraction, rho: Fraction) -> bool:
        if rho == 0:
            return eps <= self._budget  # exact for pure-ε grants
        return self._total(eps, rho) <= float(self._budget)

    @property
    def epsilon_budget(self) -> float:
        """The grant's ε."""
        return float(self._budget)

    @property
    def epsilon_spent(self) -> float:
        """ε spent so far, Gaussian rounds converted at the grant's δ."""
        return self._total(self._eps, self._rho)

    @property
    def epsilon_remaining(self) -> float:
        """ε still available (never negative)."""
        return max(float(self._budget) - self.epsilon_spent, 0.0)

    @property
    def ledger(self) -> tuple[Charge, ...]:
        """Every charge, oldest first."""
        return tuple(self._ledger)

    def check(self, cost: PrivacyCost) -> None:
        """Raise `BudgetExceeded` if `cost` does not fit; charge nothing."""
        eps, rho = self._eps + _exact(cost.epsilon), self._rho + _exact(cost.rho)
        if not self._fits(eps, rho):
            requested = self._total(eps, rho) - self.epsilon_spent
            raise BudgetExceeded(self.grant_id, requested, self.epsilon_remaining)

    def charge(self, cost: PrivacyCost, label: str) -> Charge:
        """Spend `cost` atomically, or raise `BudgetExceeded` and spend nothing."""
        with self._lock:
            self.check(cost)
            self._eps += _exact(cost.epsilon)
            self._rho += _exact(cost.rho)
            entry = Charge(label, cost.epsilon, cost.rho)
            self._ledger.append(entry)
            return entry

    def to_dict(self) -> dict[str, Any]:
        """JSON form with ``kind`` and ``version``."""
        with self._lock:
            return {
                "kind": _KIND,
                "version": _VERSION,
                "grant_id": self.grant_id,
                "epsilon": float(self._budget),
                "delta": self.delta,
                "ledger": [c.to_dict() for c in self._ledger],
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BudgetAccountant:
        """Load state written by `to_dict`; the spent totals are recomputed from the ledger."""
        if not isinstance(data, dict) or data.get("kind") != _KIND or data.get("version") != _VERSION:
            raise StateInvalid(_KIND, "wrong kind or version")
        try:
            acc = cls(str(data["grant_id"]), float(data["epsilon"]), float(data["delta"]))
            for raw in data["ledger"]:
                cost = PrivacyCost(float(raw["epsilon"]), float(raw["rho"]))
                # Replaying through `charge` refuses a ledger that overspends its own budget.
                acc.charge(cost, str(raw["label"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateInvalid(_KIND, f"malformed state: {exc}") from None
        except (BudgetExceeded, InvalidParameters) as exc:
            raise StateInvalid(_KIND, f"inconsistent ledger: {exc}") from None
        return acc
