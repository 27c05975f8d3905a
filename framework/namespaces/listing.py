"""What namespaces a warehouse holds: the registry's records joined with the schemas the engine reports.

The warehouse is the truth about what exists (relations, sizes); the registry is the truth about who built a
namespace and when. A namespace with schemas but no registry row (a build killed before it recorded, or one
made by plain dbt) is listed as unregistered: it can be dropped by name, but is never garbage-collected,
because nothing says how old it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from framework.namespaces.naming import (
    PRODUCTION,
    RESERVED_NAMES,
    RESERVED_PREFIXES,
    SCHEMA_SEPARATOR,
    namespace_of_schema,
    schema_belongs_to,
)
from framework.namespaces.registry import REGISTRY_SCHEMA, read_registry

if TYPE_CHECKING:
    from framework.providers.base import Provider, SchemaInfo

# Schemas that look like a namespace even without a registry row or a custom schema.
_NAMESPACE_PREFIXES = ("dev_", "ci_")


@dataclass(frozen=True)
class NamespaceSummary:
    name: str
    is_production: bool
    registered: bool
    owner: str | None
    schemas: tuple[str, ...]
    relations: int
    size_bytes: int | None  # None where the engine does not report sizes
    last_build_at: datetime | None


@dataclass(frozen=True)
class Inventory:
    """The namespaces of one warehouse, and the schemas that are production's."""

    namespaces: tuple[NamespaceSummary, ...]
    production_schemas: frozenset[str]

    def get(self, name: str) -> NamespaceSummary | None:
        return next((summary for summary in self.namespaces if summary.name == name), None)


def _summarise(
    name: str,
    schemas: Sequence[SchemaInfo],
    is_production: bool,
    owner: str | None,
    last_build_at: datetime | None,
    registered: bool,
) -> NamespaceSummary:
    sizes = [schema.size_bytes for schema in schemas]
    return NamespaceSummary(
        name=name,
        is_production=is_production,
        registered=registered,
        owner=owner,
        schemas=tuple(sorted(schema.name for schema in schemas)),
        relations=sum(schema.relations for schema in schemas),
        size_bytes=sum(s for s in sizes if s is not None) if all(s is not None for s in sizes) else None,
        last_build_at=last_build_at,
    )


def _is_system_schema(name: str) -> bool:
    return name in RESERVED_NAMES - {PRODUCTION} or name.startswith(RESERVED_PREFIXES)


def take_inventory(provider: Provider) -> Inventory:
    schemas = {info.name: info for info in provider.list_schemas()}
    records, relations = read_registry(
        provider, registry_exists=schemas.pop(REGISTRY_SCHEMA, None) is not None
    )
    production_schemas = {PRODUCTION} | {r.schema for r in relations if r.namespace == PRODUCTION}
    summaries = []
    claimed: set[str] = set()
    for record in records:
        if record.is_production:
            mine = [schemas[name] for name in sorted(production_schemas) if name in schemas]
        else:
            mine = [
                info
                for name, info in schemas.items()
                if schema_belongs_to(name, record.namespace) and name not in production_schemas
            ]
        claimed |= {info.name for info in mine}
        summaries.append(
            _summarise(record.namespace, mine, record.is_production, record.owner, record.last_build_at, True)
        )
    unregistered: dict[str, list[SchemaInfo]] = {}
    for name, info in schemas.items():
        if name in claimed or name in production_schemas or _is_system_schema(name):
            continue
        if SCHEMA_SEPARATOR in name or name.startswith(_NAMESPACE_PREFIXES):
            unregistered.setdefault(namespace_of_schema(name), []).append(info)
    summaries += [
        _summarise(name, infos, False, None, None, False) for name, infos in sorted(unregistered.items())
    ]
    return Inventory(
        tuple(sorted(summaries, key=lambda s: (not s.is_production, s.name))), frozenset(production_schemas)
    )
