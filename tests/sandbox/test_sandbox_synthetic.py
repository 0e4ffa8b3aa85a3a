"""Synthetic registers: seeded, well-formed, with valid credit codes."""

from __future__ import annotations

import numpy as np

import sandbox as sb
from keys import validate_uscc


def test_same_seed_same_tables() -> None:
    """A seed fixes every table; another seed changes them."""
    assert (
        sb.enterprises(200, 1).digest() == sb.enterprises(200, 1).digest() != sb.enterprises(200, 2).digest()
    )
    assert sb.credit_table(200, 4).digest() == sb.credit_table(200, 4).digest()


def test_codes_are_valid_and_unique() -> None:
    """Every generated USCC passes the keys package's validator and appears once."""
    register = sb.enterprises(300, 3)
    codes = register.column("uscc").tolist()
    assert len(set(codes)) == len(codes)
    for code in codes[:50]:
        assert sb.is_valid_uscc(code)
        validate_uscc(code)
    assert sb.is_valid_uscc("91110000600037341L") and not sb.is_valid_uscc("91110000600037341A")


def test_related_tables_line_up_with_the_register() -> None:
    """Tax rows are per firm and year, insurance rows per firm and month, and the values are plausible."""
    register = sb.enterprises(100, 5)
    tax = sb.tax_payments(register, (2023, 2024), 6)
    social = sb.social_insurance(register, 12, 7)
    assert len(tax) == 200 and len(social) == 1200
    assert set(tax.column("uscc")) == set(register.column("uscc"))
    assert np.all(tax.numeric("tax_paid") <= tax.numeric("revenue"))
    assert set(np.unique(social.column("month"))) == set(range(202401, 202413))


def test_credit_labels_are_learnable() -> None:
    """Defaults are neither rare nor common and follow the features (arrears raise the rate)."""
    t = sb.credit_table(4000, 8)
    y = t.numeric("defaulted")
    assert 0.05 < y.mean() < 0.4
    arrears = t.numeric("arrears_months") > 2
    assert y[arrears].mean() > y[~arrears].mean()
