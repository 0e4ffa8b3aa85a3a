"""双随机、一公开 inspection sampling: random subjects, random inspectors, reproducible from a published seed.

Each subject is drawn independently with the probability of its credit grade (credit-linked
supervision: worse grades are inspected more often). The draw for subject s is

    u_s = first 8 bytes of SHA-256("tdex/sample/v1" 0x00 seed 0x00 s) as an integer
    drawn  ⇔  u_s × 1000 < rate‰(grade) × 2^64

and the inspectors of a drawn subject are the k with the smallest
SHA-256("tdex/inspector/v1" 0x00 seed 0x00 s 0x00 inspector). Everything is integer arithmetic
over a published seed (e.g. a block hash announced before the draw), so anyone can redo the draw
and check the published list; the order of the input lists does not matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from credentials._credit import GRADES
from credentials.errors import SamplingError
from keys import canonical_json, sha256

__all__ = ["DEFAULT_RATES_PERMILLE", "SamplingPlan", "draw_inspection_sample"]

#: Inspection probability per grade, in per mille (A 2 %, B 5 %, C 10 %, D 30 %).
DEFAULT_RATES_PERMILLE: Mapping[str, int] = {"A": 20, "B": 50, "C": 100, "D": 300}


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """A drawn inspection list: the inputs that determine it, the draw, and its digest for publication."""

    seed: str
    rates_permille: Mapping[str, int]
    population: int
    selected: tuple[tuple[str, str, tuple[str, ...]], ...]  # (subject, grade, inspectors)
    digest: bytes

    def to_json(self) -> dict[str, Any]:
        """As JSON (kind tdex.inspection-sample, version 1)."""
        return {
            "kind": "tdex.inspection-sample",
            "version": 1,
            "seed": self.seed,
            "ratesPermille": dict(self.rates_permille),
            "population": self.population,
            "selected": [{"subject": s, "grade": g, "inspectors": list(i)} for s, g, i in self.selected],
            "digest": self.digest.hex(),
        }


def _u64(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()[:8], "big")


def draw_inspection_sample(
    population: Iterable[tuple[str, str]],
    seed: str,
    *,
    rates_permille: Mapping[str, int] = DEFAULT_RATES_PERMILLE,
    inspectors: Iterable[str] = (),
    inspectors_per_subject: int = 2,
) -> SamplingPlan:
    """Draw the subjects to inspect from `population` (subject id, credit grade) with `seed`.

    With `inspectors`, each drawn subject is assigned `inspectors_per_subject` distinct inspectors
    (two, as 双随机 rules ask). Raises SamplingError for an empty seed, a grade without a rate,
    a rate outside 0..1000, a duplicate subject, or too few inspectors.
    """
    if not seed:
        raise SamplingError("the seed must be published and non-empty")
    for grade, rate in rates_permille.items():
        if grade not in GRADES or not 0 <= rate <= 1000:
            raise SamplingError(f"rate for grade {grade!r} must be 0..1000 per mille, got {rate}")
    pool = sorted(set(inspectors))
    if pool and len(pool) < inspectors_per_subject:
        raise SamplingError(
            f"{inspectors_per_subject} inspectors per subject need at least that many inspectors"
        )
    subjects: dict[str, str] = {}
    for subject, grade in population:
        if subject in subjects:
            raise SamplingError(f"subject {subject} appears twice")
        if grade not in rates_permille:
            raise SamplingError(f"no inspection rate for grade {grade!r}")
        subjects[subject] = grade
    selected = []
    for subject in sorted(subjects):
        grade = subjects[subject]
        if _u64("tdex/sample/v1", seed, subject) * 1000 < rates_permille[grade] * 2**64:
            chosen: tuple[str, ...] = ()
            if pool:
                ranked = sorted(pool, key=lambda name: _u64("tdex/inspector/v1", seed, subject, name))
                chosen = tuple(ranked[:inspectors_per_subject])
            selected.append((subject, grade, chosen))
    body = {
        "seed": seed,
        "ratesPermille": dict(rates_permille),
        "population": len(subjects),
        "selected": [[s, g, list(i)] for s, g, i in selected],
    }
    return SamplingPlan(
        seed, dict(rates_permille), len(subjects), tuple(selected), sha256(canonical_json(body))
    )
