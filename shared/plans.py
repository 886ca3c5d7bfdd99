"""API plans: a rate, monthly quotas, what the fee includes and the price of the rest, per unit.

Units are generic names of what a request uses ("requests", "tokens", "rows", "audio_s", "images").
AIPM_API_PLANS (JSON) replaces the built-in plans; it is checked when first read, and a mistake is an
error that names the plan and the field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from shared.config import settings


class UnknownPlan(ValueError):
    pass


@dataclass(frozen=True)
class Plan:
    name: str
    requests_per_minute: int
    monthly: dict = field(default_factory=dict)  # unit -> quota a month (a hard limit)
    included: dict = field(default_factory=dict)  # unit -> amount the fee covers
    fee: float = 0.0  # per month
    price: dict = field(default_factory=dict)  # unit -> price of each unit beyond `included`

    def billable(self, unit: str, used: float) -> float:
        return max(0.0, used - self.included.get(unit, 0))


DEFAULTS = {
    "free": {"requests_per_minute": 10, "monthly": {"requests": 1000}, "included": {"requests": 1000}},
    "starter": {
        "requests_per_minute": 60,
        "monthly": {"requests": 50_000, "tokens": 2_000_000, "rows": 200_000, "audio_s": 36_000, "images": 2_000},
        "included": {"requests": 20_000, "tokens": 1_000_000, "rows": 100_000, "audio_s": 18_000, "images": 1_000},
        "fee": 19.0,
        "price": {"requests": 0.0005, "tokens": 0.000002, "rows": 0.0001, "audio_s": 0.0005, "images": 0.01},
    },
    "payg": {  # pay per use: no fee, nothing included, no quotas
        "requests_per_minute": 120,
        "price": {"requests": 0.001, "tokens": 0.000004, "rows": 0.0002, "audio_s": 0.001, "images": 0.02},
    },
}
_FIELDS = {"requests_per_minute", "monthly", "included", "fee", "price"}


def _units(name: str, key: str, value, kind) -> dict:
    where = f"AIPM_API_PLANS: plan {name!r}, {key}"
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object of unit -> number, got {value!r}")
    out = {}
    for unit, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
            raise ValueError(f"{where}: {unit!r} must be a number >= 0, got {amount!r}")
        if len(unit) > 32:
            raise ValueError(f"{where}: unit name {unit!r} is longer than 32 characters")
        out[str(unit)] = kind(amount)
    return out


def parse(text: str) -> dict[str, Plan]:
    """The plans of an AIPM_API_PLANS value; empty = the built-in ones."""
    data = json.loads(text) if text.strip() else DEFAULTS
    if not isinstance(data, dict) or not data:
        raise ValueError("AIPM_API_PLANS: expected a JSON object of plan name -> plan")
    plans = {}
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise ValueError(f"AIPM_API_PLANS: plan {name!r} must be an object")
        unknown = set(spec) - _FIELDS
        if unknown:
            raise ValueError(f"AIPM_API_PLANS: plan {name!r} has unknown field(s) {sorted(unknown)} "
                             f"(known: {sorted(_FIELDS)})")
        rpm = spec.get("requests_per_minute")
        if isinstance(rpm, bool) or not isinstance(rpm, int) or rpm < 1:
            raise ValueError(f"AIPM_API_PLANS: plan {name!r}, requests_per_minute must be an integer >= 1, "
                             f"got {rpm!r}")
        fee = spec.get("fee", 0)
        if isinstance(fee, bool) or not isinstance(fee, (int, float)) or fee < 0:
            raise ValueError(f"AIPM_API_PLANS: plan {name!r}, fee must be a number >= 0, got {fee!r}")
        plans[name] = Plan(name, rpm, _units(name, "monthly", spec.get("monthly", {}), int),
                           _units(name, "included", spec.get("included", {}), float), float(fee),
                           _units(name, "price", spec.get("price", {}), float))
    return plans


@lru_cache(maxsize=4)
def _parsed(text: str) -> dict[str, Plan]:
    return parse(text)


def plans() -> dict[str, Plan]:
    return _parsed(settings().api_plans)


def get(name: str) -> Plan:
    found = plans().get(name)
    if found is None:
        raise UnknownPlan(f"unknown API plan {name!r}: this server's plans are {', '.join(sorted(plans()))} "
                          f"(AIPM_API_PLANS)")
    return found
