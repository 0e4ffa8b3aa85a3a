"""The credit model: a golden score, decay, notice periods, corrections, checkpoints, grades, disputes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from credentials_support import DAY, EVIDENCE, OTHER, RECORDER, REF, T0, credit_book

from credentials import (
    MODEL_V1,
    CreditBook,
    CreditCategory,
    EventStatus,
    compute_score,
    grade_at_least,
)
from credentials.errors import CreditEventInvalid, CreditModelUnknown


def test_golden_score() -> None:
    """The documented example scores 645 (C): 700 − 82.70 + 27.83, rounded half-even."""
    score = compute_score(credit_book().events, REF, as_of=T0 + 100 * DAY)
    assert (score.score, score.grade, score.checkpoint) == (645, "C", 3)
    assert [str(c.points) for c in score.contributions] == ["-82.70", "27.83"]
    assert [str(c.factor) for c in score.contributions] == ["0.827039", "0.752123"]
    assert score.events_digest.hex() == "e3e86431e33cd030af287f5566299cfd9ae72c6e75ebc4fa13befd24e167e564"


def test_recomputation_is_identical_in_another_process() -> None:
    """A fresh interpreter (another hash seed) computes byte-identical score JSON."""
    script = (
        "import json,sys;sys.path.insert(0,'tests/credentials');"
        "from credentials_support import credit_book, REF, T0, DAY;"
        "from credentials import compute_score;"
        "print(json.dumps(compute_score(credit_book().events, REF, as_of=T0 + 100 * DAY).to_json()))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, check=True)
    here = compute_score(credit_book().events, REF, as_of=T0 + 100 * DAY).to_json()
    assert json.loads(out.stdout) == here
    assert compute_score(reversed(credit_book().events), REF, as_of=T0 + 100 * DAY).to_json() == here


def test_half_life_halves_the_points() -> None:
    """After exactly one half-life a penalty counts half its weight."""
    book = CreditBook()
    book.record(RECORDER, REF, CreditCategory.ADMINISTRATIVE_PENALTY, -50, EVIDENCE, T0, now=T0)
    score = compute_score(book.events, REF, as_of=T0 + 365 * DAY)
    assert score.contributions[0].points == Decimal("-25.00") and score.score == 675


def test_notice_period_and_future_events() -> None:
    """An event counts only from its effective date and until its public-notice period ends."""
    book = CreditBook()
    book.record(
        RECORDER, REF, CreditCategory.ADMINISTRATIVE_PENALTY, -80, EVIDENCE, T0, T0 + 90 * DAY, now=T0
    )
    assert compute_score(book.events, REF, as_of=T0 - DAY).score == 700
    assert compute_score(book.events, REF, as_of=T0).score == 620
    ended = compute_score(book.events, REF, as_of=T0 + 90 * DAY)
    assert ended.score == 700 and ended.contributions[0].note == "public-notice period ended"


def test_serious_dishonesty_does_not_decay_and_forces_grade_d() -> None:
    """A listing keeps its full weight over time and makes the grade D."""
    score = compute_score(credit_book().events, OTHER, as_of=T0 + 3000 * DAY)
    assert score.score == 400 and score.grade == "D"
    assert score.contributions[0].note == "no decay while in force"


def test_checkpoint_limits_the_events() -> None:
    """As of checkpoint N only events 1..N count, including which corrections exist."""
    book = credit_book()
    book.correct(RECORDER, 1, -20, EVIDENCE, T0, now=T0 + DAY)  # event 4 supersedes event 1
    before = compute_score(book.events, REF, as_of=T0 + 100 * DAY, checkpoint=3)
    after = compute_score(book.events, REF, as_of=T0 + 100 * DAY)
    assert before.score == 645 and after.checkpoint == 4
    assert after.contributions[0].note == "corrected by event 4"
    assert after.score == 711  # 700 − 16.54 + 27.83 = 711.29
    assert before.events_digest != after.events_digest


def test_dispute_flow() -> None:
    """Dispute → uphold keeps the event; dispute → correct supersedes it; history stays complete."""
    book = credit_book()
    book.dispute(1)
    assert book.events[0].status is EventStatus.DISPUTED
    with pytest.raises(CreditEventInvalid):
        book.dispute(1)
    with pytest.raises(CreditEventInvalid):
        book.uphold("0x" + "bb" * 20, 1)  # not the recorder
    book.uphold(RECORDER, 1)
    assert book.events[0].status is EventStatus.UPHELD
    with pytest.raises(CreditEventInvalid):
        book.dispute(1)
    book.dispute(2)
    correction = book.correct(RECORDER, 2, 0, EVIDENCE, T0 - 200 * DAY, now=T0)  # annulled
    assert correction.corrects == 2 and book.events[1].status is EventStatus.CORRECTED
    with pytest.raises(CreditEventInvalid):
        book.correct(RECORDER, 2, 5, EVIDENCE, T0, now=T0)
    assert len(book.events) == 4 and [e.event_id for e in book.of(REF)] == [1, 2, 4]


def test_weights_are_bounded_by_category() -> None:
    """A weight outside its category's bounds is refused; 0 (annulment) is always allowed."""
    book = CreditBook()
    with pytest.raises(CreditEventInvalid) as info:
        book.record(RECORDER, REF, CreditCategory.ADMINISTRATIVE_PENALTY, 10, EVIDENCE, T0, now=T0)
    assert info.value.code == "credentials.credit.event_invalid"
    with pytest.raises(CreditEventInvalid):
        book.record(RECORDER, REF, CreditCategory.COMMENDATION, 5, EVIDENCE, T0, T0, now=T0)
    book.record(RECORDER, REF, CreditCategory.COMMENDATION, 0, EVIDENCE, T0, now=T0)
    MODEL_V1.check_weight(CreditCategory.SERIOUS_DISHONESTY, -400)


def test_models_and_grades() -> None:
    """An unknown model name is refused; grades compare A > B > C > D; categories parse by name."""
    with pytest.raises(CreditModelUnknown) as info:
        compute_score([], REF, as_of=T0, model="tdex-credit-v9")
    assert info.value.code == "credentials.credit.unknown_model"
    assert grade_at_least("A", "B") and not grade_at_least("C", "B")
    assert CreditCategory.parse("administrative-penalty") is CreditCategory.ADMINISTRATIVE_PENALTY
    assert CreditCategory.parse("4") is CreditCategory.COMMENDATION
    assert compute_score([], REF, as_of=T0).score == 700
