"""Seeded synthetic datasets for demos, tests and benchmarks: enterprises, tax, social insurance, credit.

The numbers are invented but shaped like a city's registers: heavy-tailed registered capital,
headcount that grows with capital, revenue with headcount and industry, tax as an industry rate on
revenue, social-insurance contributions on headcount, and arrears and loan defaults that are more
likely for young, small, indebted firms. The same seed gives the same tables.
"""

from __future__ import annotations

import numpy as np

from sandbox._table import Item, Schema, Table
from sandbox._uscc import make_uscc

__all__ = [
    "CREDIT_FEATURES",
    "DISTRICTS",
    "INDUSTRIES",
    "credit_table",
    "enterprise_schema",
    "enterprises",
    "social_insurance",
    "tax_payments",
]

# Districts of a fictional prefecture-level city, with 6-digit division codes of the right shape.
DISTRICTS: dict[str, str] = {
    "Gulou": "320102",
    "Xuanwu": "320103",
    "Qinhuai": "320104",
    "Jianye": "320105",
    "Qixia": "320113",
    "Jiangning": "320115",
    "Pukou": "320111",
    "Liuhe": "320116",
}
# GB/T 4754-2017 sections: code, weight in the register, effective tax rate on revenue.
INDUSTRIES: dict[str, tuple[float, float]] = {
    "A": (0.03, 0.01),  # agriculture
    "C": (0.18, 0.035),  # manufacturing
    "E": (0.07, 0.03),  # construction
    "F": (0.25, 0.02),  # wholesale and retail
    "G": (0.05, 0.025),  # transport and logistics
    "H": (0.06, 0.02),  # accommodation and catering
    "I": (0.12, 0.04),  # information technology
    "K": (0.04, 0.05),  # real estate
    "L": (0.12, 0.03),  # leasing and business services
    "M": (0.08, 0.035),  # research and technical services
}
CREDIT_FEATURES: tuple[str, ...] = (
    "log_capital",
    "age_years",
    "employees",
    "log_revenue",
    "tax_ratio",
    "contribution_ratio",
    "arrears_months",
    "overdue_tax",
)


def enterprise_schema() -> Schema:
    """Schema of the enterprise register."""
    return Schema(
        (
            Item("uscc", "string", identifier=True),
            Item("industry", "category", categories=tuple(INDUSTRIES)),
            Item("district", "category", categories=tuple(DISTRICTS)),
            Item("registered_capital", "float", lower=0.0, upper=1_000_000.0),  # 10k CNY
            Item("established_year", "int", lower=1980, upper=2025),
            Item("employees", "int", lower=0, upper=5_000),
            Item("small_micro", "bool"),
        )
    )


def _columns(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    industries = np.array(list(INDUSTRIES))
    p = np.array([w for w, _ in INDUSTRIES.values()])
    industry = rng.choice(industries, size=n, p=p / p.sum())
    district = rng.choice(np.array(list(DISTRICTS)), size=n)
    capital = np.round(np.exp(rng.normal(5.0, 1.5, n)), 2)  # median ≈ 1.5 million CNY
    established = np.clip(np.round(2024 - rng.exponential(8.0, n)), 1980, 2024).astype(np.int64)
    employees = np.clip(np.round(np.exp(0.45 * np.log1p(capital) + rng.normal(0.8, 0.7, n))), 1, 5000)
    bodies = rng.choice(10**8, size=n, replace=False)
    uscc = [
        make_uscc("9", "1", DISTRICTS[d], f"{b:08d}")
        for d, b in zip(district.tolist(), bodies.tolist(), strict=True)
    ]
    return {
        "uscc": np.asarray(uscc, dtype=object),
        "industry": industry,
        "district": district,
        "capital": capital,
        "established": established,
        "employees": employees.astype(np.int64),
    }


def enterprises(n: int, seed: int) -> Table:
    """An enterprise register of `n` firms."""
    c = _columns(n, np.random.default_rng(seed))
    return Table.from_columns(
        enterprise_schema(),
        {
            "uscc": c["uscc"].tolist(),
            "industry": c["industry"].tolist(),
            "district": c["district"].tolist(),
            "registered_capital": c["capital"],
            "established_year": c["established"],
            "employees": c["employees"],
            "small_micro": (c["employees"] < 100).tolist(),
        },
    )


def _revenue(register: Table, rng: np.random.Generator) -> np.ndarray:
    employees = register.column("employees").astype(np.float64)
    out: np.ndarray = np.round(employees * np.exp(rng.normal(3.6, 0.6, len(register))), 2)  # 10k CNY / year
    return out


def tax_payments(register: Table, years: tuple[int, ...], seed: int) -> Table:
    """Yearly revenue and tax paid per firm and year, with an overdue flag."""
    rng = np.random.default_rng(seed)
    rates = np.array([r for _, r in INDUSTRIES.values()])[register.column("industry")]
    base = _revenue(register, rng)
    rows_uscc, rows_year, revenue, tax, overdue = [], [], [], [], []
    for year in years:
        growth = np.exp(rng.normal(0.03, 0.15, len(register)))
        rev = np.round(base * growth, 2)
        paid = np.round(rev * rates * np.exp(rng.normal(0.0, 0.1, len(register))), 2)
        rows_uscc += register.column("uscc").tolist()
        rows_year += [year] * len(register)
        revenue.append(rev)
        tax.append(paid)
        overdue.append(rng.random(len(register)) < 0.04)
    schema = Schema(
        (
            Item("uscc", "string", identifier=True),
            Item("year", "int", lower=2000, upper=2030),
            Item("revenue", "float", lower=0.0, upper=10_000_000.0),
            Item("tax_paid", "float", lower=0.0, upper=1_000_000.0),
            Item("overdue", "bool"),
        )
    )
    return Table.from_columns(
        schema,
        {
            "uscc": rows_uscc,
            "year": rows_year,
            "revenue": np.concatenate(revenue),
            "tax_paid": np.concatenate(tax),
            "overdue": np.concatenate(overdue).tolist(),
        },
    )


def social_insurance(register: Table, months: int, seed: int) -> Table:
    """Monthly insured headcount and contributions per firm over the last `months` months."""
    rng = np.random.default_rng(seed)
    n = len(register)
    employees = register.column("employees").astype(np.float64)
    rows_uscc, rows_month, insured, paid, arrears = [], [], [], [], []
    for m in range(months):
        staff = np.maximum(np.round(employees * rng.uniform(0.7, 1.0, n)), 0)
        due = staff * 0.8 * 0.3  # in 10k CNY: a base of 8k CNY a month at an employer rate of 30 %
        late = rng.random(n) < 0.05
        rows_uscc += register.column("uscc").tolist()
        rows_month += [202401 + m if m < 12 else 202501 + m - 12] * n
        insured.append(staff)
        paid.append(np.round(np.where(late, 0.0, due), 3))
        arrears.append(late)
    schema = Schema(
        (
            Item("uscc", "string", identifier=True),
            Item("month", "int", lower=200001, upper=203012),
            Item("insured", "int", lower=0, upper=5_000),
            Item("contribution", "float", lower=0.0, upper=10_000.0),
            Item("arrears", "bool"),
        )
    )
    return Table.from_columns(
        schema,
        {
            "uscc": rows_uscc,
            "month": rows_month,
            "insured": np.concatenate(insured),
            "contribution": np.concatenate(paid),
            "arrears": np.concatenate(arrears).tolist(),
        },
    )


def credit_table(n: int, seed: int) -> Table:
    """One row per firm with credit features and a `defaulted` label (for 信易贷 scoring and training).

    The label follows a logistic model of the features, so a linear classifier can learn it.
    """
    rng = np.random.default_rng(seed)
    c = _columns(n, rng)
    age = 2025 - c["established"].astype(np.float64)
    employees = c["employees"].astype(np.float64)
    revenue = employees * np.exp(rng.normal(3.6, 0.6, n))
    rates = np.array([r for _, r in INDUSTRIES.values()])[
        np.searchsorted(np.array(list(INDUSTRIES)), c["industry"])
    ]
    tax_ratio = rates * np.exp(rng.normal(0.0, 0.25, n))
    contribution_ratio = np.clip(rng.beta(8, 2, n), 0, 1)
    arrears = rng.poisson(np.where(rng.random(n) < 0.15, 3.0, 0.2))
    overdue = rng.random(n) < 0.06
    z = (
        -2.0
        - 0.35 * (np.log(c["capital"]) - 5)
        - 0.12 * (age - 8)
        - 0.4 * (np.log(revenue) - 6)
        - 15 * (tax_ratio - 0.03)
        - 2.5 * (contribution_ratio - 0.8)
        + 0.45 * arrears
        + 1.2 * overdue
    )
    defaulted = rng.random(n) < 1 / (1 + np.exp(-z))
    schema = Schema(
        (
            Item("uscc", "string", identifier=True),
            Item("district", "category", categories=tuple(DISTRICTS)),
            Item("log_capital", "float", lower=-5.0, upper=15.0),
            Item("age_years", "float", lower=0.0, upper=50.0),
            Item("employees", "float", lower=0.0, upper=5000.0),
            Item("log_revenue", "float", lower=-5.0, upper=20.0),
            Item("tax_ratio", "float", lower=0.0, upper=1.0),
            Item("contribution_ratio", "float", lower=0.0, upper=1.0),
            Item("arrears_months", "float", lower=0.0, upper=24.0),
            Item("overdue_tax", "bool"),
            Item("defaulted", "bool"),
        )
    )
    return Table.from_columns(
        schema,
        {
            "uscc": c["uscc"].tolist(),
            "district": c["district"].tolist(),
            "log_capital": np.log(c["capital"]),
            "age_years": age,
            "employees": employees,
            "log_revenue": np.log(revenue),
            "tax_ratio": tax_ratio,
            "contribution_ratio": contribution_ratio,
            "arrears_months": arrears.astype(np.float64),
            "overdue_tax": overdue.tolist(),
            "defaulted": defaulted.tolist(),
        },
    )
