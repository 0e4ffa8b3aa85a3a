"""Public credit (公共信用): events, the versioned scoring model, explained scores, an in-memory ledger.

Model `tdex-credit-v1` (docs/credentials.md gives the same formula for people):

    score(t) = clamp(round(700 + Σ points_e), 0, 1000)
    points_e = round2(weight_e × 2^(−age_e / half_life_c))    for each counting event e
    age_e    = floor((t − effective_from_e) / 86 400)          whole days

An event counts at time t when it is in the checkpoint (its id ≤ N), it is not superseded by a
correction that is also in the checkpoint, effective_from ≤ t, and t < effective_until (when set:
a penalty's public-notice period). Half-lives by category are in `MODEL_V1`; a serious-dishonesty
listing does not decay while it is in force, and any counting listing makes the grade D.

Arithmetic is decimal with 28 significant digits and round-half-even, `exp` and `ln` correctly
rounded (IEEE 754-2008 decimal), so every machine gets the same points to the cent and the same
score: no binary floating point is involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import IntEnum
from typing import Any

from credentials.errors import CreditError, CreditEventInvalid, CreditModelUnknown
from keys import canonical_json, sha256

__all__ = [
    "GRADES",
    "MODELS",
    "MODEL_V1",
    "Contribution",
    "CreditBook",
    "CreditCategory",
    "CreditEvent",
    "CreditModel",
    "CreditScore",
    "EventStatus",
    "compute_score",
    "events_digest",
    "grade_at_least",
]

_DAY = 86_400
_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_LN2 = _CTX.ln(Decimal(2))
_CENT = Decimal("0.01")
GRADES = ("A", "B", "C", "D")


class CreditCategory(IntEnum):
    """Credit event categories (the CreditLedger contract's enum, same order)."""

    ADMINISTRATIVE_LICENCE = 0  # 行政许可
    ADMINISTRATIVE_PENALTY = 1  # 行政处罚 (with its public-notice period)
    TAX_GRADE = 2  # 纳税信用等级
    CONTRACT_PERFORMANCE = 3  # 合同履约
    COMMENDATION = 4  # 表彰奖励
    SERIOUS_DISHONESTY = 5  # 严重失信主体名单

    @classmethod
    def parse(cls, value: str | int) -> CreditCategory:
        """A category from its number or its name in any case (`administrative-penalty` too)."""
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return cls(int(value))
        try:
            return cls[value.upper().replace("-", "_")]
        except KeyError:
            raise CreditEventInvalid(f"unknown credit category {value!r}") from None


class EventStatus(IntEnum):
    """An event's status on the ledger (the contract's enum, same order); history is never erased."""

    NONE = 0
    ACTIVE = 1
    DISPUTED = 2
    UPHELD = 3
    CORRECTED = 4


@dataclass(frozen=True, slots=True)
class CreditEvent:
    """A credit event as the ledger holds it (times in Unix seconds; `effective_until` 0 = open-ended).

    `corrects` is the id of the event this one corrects (0 for an original event).
    """

    event_id: int
    subject_ref: bytes
    category: CreditCategory
    weight: int
    evidence_hash: bytes
    recorder: str
    effective_from: int
    effective_until: int
    recorded_at: int
    corrects: int = 0
    status: EventStatus = EventStatus.ACTIVE

    def to_json(self) -> dict[str, Any]:
        """The fields the score depends on and the digest covers (status is display only)."""
        return {
            "id": self.event_id,
            "subjectRef": self.subject_ref.hex(),
            "category": self.category.name,
            "weight": self.weight,
            "evidenceHash": self.evidence_hash.hex(),
            "recorder": self.recorder.lower(),
            "effectiveFrom": self.effective_from,
            "effectiveUntil": self.effective_until,
            "recordedAt": self.recorded_at,
            "corrects": self.corrects,
        }


@dataclass(frozen=True, slots=True)
class CreditModel:
    """A versioned scoring model: base, bounds, half-lives (days; None = no decay), weights, grades."""

    name: str
    base: int
    floor: int
    ceiling: int
    half_life_days: Mapping[CreditCategory, int | None]
    weight_bounds: Mapping[CreditCategory, tuple[int, int]]
    grade_floors: tuple[tuple[str, int], ...]

    def check_weight(self, category: CreditCategory, weight: int) -> None:
        """Raise CreditEventInvalid unless `weight` is 0 (an annulment) or within the category's bounds."""
        low, high = self.weight_bounds[category]
        if weight != 0 and not low <= weight <= high:
            raise CreditEventInvalid(f"{category.name} weights lie in [{low}, {high}] (or 0), not {weight}")

    def grade(self, score: int, *, listed: bool) -> str:
        """The grade of `score`; D whenever a serious-dishonesty listing counts."""
        if listed:
            return "D"
        for grade, floor in self.grade_floors:
            if score >= floor:
                return grade
        return GRADES[-1]


MODEL_V1 = CreditModel(
    name="tdex-credit-v1",
    base=700,
    floor=0,
    ceiling=1000,
    half_life_days={
        CreditCategory.ADMINISTRATIVE_LICENCE: 1095,
        CreditCategory.ADMINISTRATIVE_PENALTY: 365,
        CreditCategory.TAX_GRADE: 365,
        CreditCategory.CONTRACT_PERFORMANCE: 365,
        CreditCategory.COMMENDATION: 730,
        CreditCategory.SERIOUS_DISHONESTY: None,
    },
    weight_bounds={
        CreditCategory.ADMINISTRATIVE_LICENCE: (1, 30),
        CreditCategory.ADMINISTRATIVE_PENALTY: (-200, -1),
        CreditCategory.TAX_GRADE: (-100, 50),
        CreditCategory.CONTRACT_PERFORMANCE: (-100, 50),
        CreditCategory.COMMENDATION: (1, 100),
        CreditCategory.SERIOUS_DISHONESTY: (-400, -200),
    },
    grade_floors=(("A", 800), ("B", 700), ("C", 600), ("D", 0)),
)
MODELS: Mapping[str, CreditModel] = {MODEL_V1.name: MODEL_V1}


def _model(model: CreditModel | str) -> CreditModel:
    if isinstance(model, CreditModel):
        return model
    try:
        return MODELS[model]
    except KeyError:
        raise CreditModelUnknown(f"unknown credit model {model!r}; known: {', '.join(MODELS)}") from None


def grade_at_least(grade: str, minimum: str) -> bool:
    """True when `grade` is `minimum` or better (A > B > C > D)."""
    if grade not in GRADES or minimum not in GRADES:
        raise CreditError(f"grades are {', '.join(GRADES)}")
    return GRADES.index(grade) <= GRADES.index(minimum)


@dataclass(frozen=True, slots=True)
class Contribution:
    """How one event of the subject counts at the scoring time: its points and why."""

    event_id: int
    category: CreditCategory
    weight: int
    age_days: int
    factor: Decimal
    points: Decimal
    note: str

    def to_json(self) -> dict[str, Any]:
        """As JSON, with decimals as strings (they are exact)."""
        return {
            "event": self.event_id,
            "category": self.category.name,
            "weight": self.weight,
            "ageDays": self.age_days,
            "factor": str(self.factor),
            "points": str(self.points),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class CreditScore:
    """A subject's score at time `as_of` over the events of checkpoint `checkpoint`, with its explanation."""

    subject_ref: bytes
    model: str
    as_of: int
    checkpoint: int
    score: int
    grade: str
    contributions: tuple[Contribution, ...]
    events_digest: bytes

    def to_json(self) -> dict[str, Any]:
        """As JSON (kind tdex.credit-score, version 1)."""
        return {
            "kind": "tdex.credit-score",
            "version": 1,
            "subjectRef": self.subject_ref.hex(),
            "model": self.model,
            "asOf": self.as_of,
            "checkpoint": self.checkpoint,
            "score": self.score,
            "grade": self.grade,
            "eventsDigest": self.events_digest.hex(),
            "contributions": [c.to_json() for c in self.contributions],
        }


def events_digest(events: Iterable[CreditEvent]) -> bytes:
    """SHA-256 of the JCS list of the events (sorted by id): binds a score to exactly these events."""
    return sha256(canonical_json([e.to_json() for e in sorted(events, key=lambda e: e.event_id)]))


def _decay(age_days: int, half_life: int | None) -> Decimal:
    if half_life is None:
        return Decimal(1)
    return _CTX.exp(_CTX.divide(_CTX.multiply(-_LN2, Decimal(age_days)), Decimal(half_life)))


def compute_score(
    events: Iterable[CreditEvent],
    subject_ref: bytes,
    *,
    as_of: int,
    checkpoint: int | None = None,
    model: CreditModel | str = MODEL_V1,
) -> CreditScore:
    """Score `subject_ref` at Unix time `as_of` from the ledger's events (any subjects, any order).

    `checkpoint` N limits the events to ids ≤ N (default: all given); the result names N (the
    highest id seen when not given). Raises CreditModelUnknown for an unknown model name.
    """
    chosen = _model(model)
    all_events = list(events)
    limit = checkpoint if checkpoint is not None else max((e.event_id for e in all_events), default=0)
    mine = sorted(
        (e for e in all_events if e.subject_ref == subject_ref and e.event_id <= limit),
        key=lambda e: e.event_id,
    )
    superseded = {e.corrects: e.event_id for e in mine if e.corrects}
    contributions = []
    total = Decimal(chosen.base)
    listed = False
    for event in mine:
        age = (as_of - event.effective_from) // _DAY
        zero = Decimal("0.00")
        if event.event_id in superseded:
            note, factor, points = f"corrected by event {superseded[event.event_id]}", Decimal(0), zero
        elif event.effective_from > as_of:
            note, factor, points = "not yet in effect", Decimal(0), zero
        elif event.effective_until and as_of >= event.effective_until:
            note, factor, points = "public-notice period ended", Decimal(0), zero
        else:
            factor = _decay(age, chosen.half_life_days[event.category])
            points = _CTX.multiply(Decimal(event.weight), factor).quantize(_CENT, context=_CTX)
            half_life = chosen.half_life_days[event.category]
            note = "no decay while in force" if half_life is None else f"half-life {half_life} days"
            if event.corrects:
                note += f"; corrects event {event.corrects}"
            if event.status is EventStatus.DISPUTED:
                note += "; under dispute"
            total = _CTX.add(total, points)
            listed = listed or (event.category is CreditCategory.SERIOUS_DISHONESTY and event.weight != 0)
        contributions.append(
            Contribution(
                event.event_id,
                event.category,
                event.weight,
                max(age, 0),
                factor.quantize(Decimal("0.000001"), context=_CTX),
                points,
                note,
            )
        )
    rounded = int(total.quantize(Decimal(1), context=_CTX))
    score = min(max(rounded, chosen.floor), chosen.ceiling)
    return CreditScore(
        subject_ref=subject_ref,
        model=chosen.name,
        as_of=as_of,
        checkpoint=limit,
        score=score,
        grade=chosen.grade(score, listed=listed),
        contributions=tuple(contributions),
        events_digest=events_digest(mine),
    )


@dataclass
class CreditBook:
    """An in-memory credit ledger with the contract's rules: record, dispute, uphold, correct.

    For tests, benchmarks and offline demos; production reads the same events from the chain.
    Disputes are filed by a recorder on the subject's behalf; only the original recorder resolves.
    """

    model: CreditModel = MODEL_V1
    events: list[CreditEvent] = field(default_factory=list)

    def _get(self, event_id: int) -> CreditEvent:
        if not 1 <= event_id <= len(self.events):
            raise CreditEventInvalid(f"no credit event {event_id}")
        return self.events[event_id - 1]

    def record(
        self,
        recorder: str,
        subject_ref: bytes,
        category: CreditCategory,
        weight: int,
        evidence_hash: bytes,
        effective_from: int,
        effective_until: int = 0,
        *,
        now: int,
        corrects: int = 0,
    ) -> CreditEvent:
        """Append an event (weights checked against the model); returns it with its id (from 1)."""
        self.model.check_weight(category, weight)
        if effective_until and effective_until <= effective_from:
            raise CreditEventInvalid("effective_until must be after effective_from")
        event = CreditEvent(
            len(self.events) + 1,
            subject_ref,
            category,
            weight,
            evidence_hash,
            recorder.lower(),
            effective_from,
            effective_until,
            now,
            corrects,
        )
        self.events.append(event)
        return event

    def _set(self, event: CreditEvent, status: EventStatus) -> None:
        self.events[event.event_id - 1] = replace(event, status=status)

    def dispute(self, event_id: int) -> None:
        """Open a dispute on an ACTIVE event."""
        event = self._get(event_id)
        if event.status is not EventStatus.ACTIVE:
            raise CreditEventInvalid(
                f"event {event_id} is {event.status.name}; only ACTIVE events are disputed"
            )
        self._set(event, EventStatus.DISPUTED)

    def uphold(self, recorder: str, event_id: int) -> None:
        """Close a dispute keeping the event (its recorder only)."""
        event = self._get(event_id)
        if event.recorder != recorder.lower() or event.status is not EventStatus.DISPUTED:
            raise CreditEventInvalid("only the recorder upholds, and only a DISPUTED event")
        self._set(event, EventStatus.UPHELD)

    def correct(
        self,
        recorder: str,
        event_id: int,
        weight: int,
        evidence_hash: bytes,
        effective_from: int,
        effective_until: int = 0,
        *,
        now: int,
    ) -> CreditEvent:
        """Supersede an event with a correction (credit repair, or the answer to a dispute)."""
        event = self._get(event_id)
        if event.recorder != recorder.lower() or event.status is EventStatus.CORRECTED:
            raise CreditEventInvalid("only the recorder corrects, and an event only once")
        correction = self.record(
            recorder,
            event.subject_ref,
            event.category,
            weight,
            evidence_hash,
            effective_from,
            effective_until,
            now=now,
            corrects=event_id,
        )
        self._set(event, EventStatus.CORRECTED)
        return correction

    def of(self, subject_ref: bytes) -> Sequence[CreditEvent]:
        """The subject's events in id order."""
        return [e for e in self.events if e.subject_ref == subject_ref]
