"""Per-grant privacy budget: each query's (ε, δ) is charged before it runs, by basic composition."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

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
    """What one run spends: ε, and δ for approximate-DP mechanisms (0 for Laplace)."""

    epsilon: float
    delta: float = 0.0

    def __post_init__(self) -> None:
        if not (self.epsilon >= 0 and self.delta >= 0) or self.epsilon == float("inf"):
            raise InvalidParameters("epsilon", "privacy costs are finite and non-negative")


@dataclass(frozen=True)
class Charge:
    """One entry of the accountant's ledger."""

    label: str
    epsilon: float
    delta: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"label": self.label, "epsilon": self.epsilon, "delta": self.delta}


class BudgetAccountant:
    """The privacy budget of one grant.

    Charges compose by basic (sequential) composition: ε and δ add up. That is loose for many
    small queries but holds for any mix of mechanisms and any adaptively chosen queries, which is
    what a requester can send. Repeating a query, or slicing it into differences, is charged like
    any other query, so the total an attacker learns is bounded by the grant's budget.

    The state is serialisable (`to_dict` / `from_dict`) so a node can persist it; a node must
    persist after `charge` and before releasing the result so a crash cannot refund a query.
    """

    def __init__(self, grant_id: str, epsilon: float, delta: float = 0.0) -> None:
        PrivacyCost(epsilon, delta)
        self.grant_id = grant_id
        self._eps_budget = _exact(epsilon)
        self._delta_budget = _exact(delta)
        self._eps_spent = Fraction(0)
        self._delta_spent = Fraction(0)
        self._ledger: list[Charge] = []
        self._lock = threading.Lock()

    @property
    def epsilon_remaining(self) -> float:
        """ε still available."""
        return float(self._eps_budget - self._eps_spent)

    @property
    def delta_remaining(self) -> float:
        """δ still available."""
        return float(self._delta_budget - self._delta_spent)

    @property
    def epsilon_spent(self) -> float:
        """ε charged so far."""
        return float(self._eps_spent)

    @property
    def ledger(self) -> tuple[Charge, ...]:
        """Every charge, oldest first."""
        return tuple(self._ledger)

    def check(self, cost: PrivacyCost) -> None:
        """Raise `BudgetExceeded` if `cost` does not fit; charge nothing."""
        eps, delta = _exact(cost.epsilon), _exact(cost.delta)
        if self._eps_spent + eps > self._eps_budget:
            raise BudgetExceeded(self.grant_id, cost.epsilon, self.epsilon_remaining)
        if self._delta_spent + delta > self._delta_budget:
            raise BudgetExceeded(self.grant_id, cost.delta, self.delta_remaining, what="delta")

    def charge(self, cost: PrivacyCost, label: str) -> Charge:
        """Spend `cost` atomically, or raise `BudgetExceeded` and spend nothing."""
        with self._lock:
            self.check(cost)
            self._eps_spent += _exact(cost.epsilon)
            self._delta_spent += _exact(cost.delta)
            entry = Charge(label, cost.epsilon, cost.delta)
            self._ledger.append(entry)
            return entry

    def to_dict(self) -> dict[str, Any]:
        """JSON form with ``kind`` and ``version``."""
        with self._lock:
            return {
                "kind": _KIND,
                "version": _VERSION,
                "grant_id": self.grant_id,
                "epsilon_budget": float(self._eps_budget),
                "delta_budget": float(self._delta_budget),
                "ledger": [c.to_dict() for c in self._ledger],
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BudgetAccountant:
        """Load state written by `to_dict`; the spent totals are recomputed from the ledger."""
        if data.get("kind") != _KIND or data.get("version") != _VERSION:
            raise StateInvalid(_KIND, "wrong kind or version")
        try:
            acc = cls(str(data["grant_id"]), float(data["epsilon_budget"]), float(data["delta_budget"]))
            for raw in data["ledger"]:
                cost = PrivacyCost(float(raw["epsilon"]), float(raw["delta"]))
                # Replaying through `charge` refuses a ledger that overspends its own budget.
                acc.charge(cost, str(raw["label"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateInvalid(_KIND, f"malformed state: {exc}") from None
        except (BudgetExceeded, InvalidParameters) as exc:
            raise StateInvalid(_KIND, f"inconsistent ledger: {exc}") from None
        return acc
