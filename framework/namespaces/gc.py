"""Dropping namespaces, by name or by age. Production is never dropped, whatever is asked.

A namespace's schemas are exactly its target schema and `<namespace>__*` (namespace names never contain
`__`), minus anything recorded as production's: dropping `dev_ana` cannot touch `dev_ana_bob`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from framework.namespaces.listing import Inventory, NamespaceSummary, take_inventory
from framework.namespaces.naming import PRODUCTION, NamespaceError, sanitize_namespace
from framework.namespaces.registry import forget

if TYPE_CHECKING:
    from framework.providers.base import Provider

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ProductionProtectedError(NamespaceError):
    """Something asked to drop production."""


class UnknownNamespaceError(NamespaceError):
    """The warehouse holds no namespace of that name."""


def parse_age(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w`, `90s` as a timedelta."""
    match = _AGE.match(text)
    if not match or int(match.group(1)) == 0:
        raise NamespaceError(f"age {text!r} is not a positive number followed by s, m, h, d or w (e.g. 7d)")
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise NamespaceError(f"age {text!r} is too large: timedelta stops at 999999999 days") from None


def format_age(age: timedelta) -> str:
    """The largest whole unit up to days: `7d`, `36h`, `90s`."""
    seconds = int(age.total_seconds())
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % length == 0 and seconds >= length:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"


def resolve_drop_target(inventory: Inventory, name: str, engine: str) -> NamespaceSummary:
    """The namespace `ns drop NAME` would drop, or an error saying why none may be."""
    if name.strip().lower() == PRODUCTION or name.strip() in inventory.production_schemas:
        raise ProductionProtectedError(f"'{name}' is production, which can never be dropped")
    target = sanitize_namespace(name, engine)
    if target in inventory.production_schemas:
        raise ProductionProtectedError(f"'{target}' is a production schema, which can never be dropped")
    summary = inventory.get(target)
    if summary is None or summary.is_production:
        raise UnknownNamespaceError(f"no namespace '{target}' in this warehouse: see `overclock ns list`")
    return summary


def drop_namespace(provider: Provider, summary: NamespaceSummary) -> None:
    """Drop every schema of a (non-production) namespace and its registry rows."""
    if summary.is_production or summary.name == PRODUCTION:
        raise ProductionProtectedError("production can never be dropped")
    for schema in summary.schemas:
        provider.drop_schema(schema)
    forget(provider, summary.name)


@dataclass(frozen=True)
class GarbagePlan:
    """What `ns gc` would drop, and the unregistered namespaces it leaves because their age is unknown."""

    older_than: timedelta
    expired: tuple[NamespaceSummary, ...]
    unknown_age: tuple[NamespaceSummary, ...]


def plan_garbage_collection(
    provider: Provider, older_than: timedelta, now: datetime | None = None
) -> GarbagePlan:
    cutoff = (now or datetime.now(UTC)) - older_than
    inventory = take_inventory(provider)
    candidates = [summary for summary in inventory.namespaces if not summary.is_production]
    expired = tuple(
        s for s in candidates if s.registered and s.last_build_at is not None and s.last_build_at < cutoff
    )
    unknown_age = tuple(s for s in candidates if not s.registered)
    return GarbagePlan(older_than, expired, unknown_age)


def collect_garbage(provider: Provider, plan: GarbagePlan) -> list[str]:
    """Drop what the plan found expired; returns the dropped namespaces' names."""
    for summary in plan.expired:
        drop_namespace(provider, summary)
    return [summary.name for summary in plan.expired]
