"""The namespace registry: two small tables per warehouse recording who built which relations, and when.

`overclock_meta.namespaces` holds one row per namespace (owner, last command, last build);
`overclock_meta.namespace_relations` one row per relation a namespace built. The CLI writes both after each
build, run or test; `overclock ns list|drop|gc` read them. Writes are delete-then-insert of the namespace's
own rows, so concurrent builds of different namespaces never touch the same rows; a reader keeps the
newest row should two builds of one namespace race.

All SQL is built as sqlglot trees and rendered in the provider's dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from framework.namespaces.naming import schema_belongs_to

if TYPE_CHECKING:
    from framework.config import Settings
    from framework.providers.base import Provider

REGISTRY_SCHEMA = "overclock_meta"
NAMESPACES_TABLE = f"{REGISTRY_SCHEMA}.namespaces"
RELATIONS_TABLE = f"{REGISTRY_SCHEMA}.namespace_relations"
_COLUMNS = {
    NAMESPACES_TABLE: (
        ("namespace", "text"),
        ("owner", "text"),
        ("is_production", "boolean"),
        ("last_command", "text"),
        ("last_build_at", "timestamptz"),
    ),
    RELATIONS_TABLE: (
        ("namespace", "text"),
        ("relation", "text"),  # schema.name
        ("resource_type", "text"),
        ("owner", "text"),
        ("built_at", "timestamptz"),
    ),
}
_INSERT_BATCH = 500
# dbt statuses of a node whose relation now exists: models, seeds and snapshots that succeeded, and tests
# that ran (with --store-failures their table exists whatever the outcome).
_BUILT_STATUSES = frozenset({"success", "pass", "warn", "fail"})


@dataclass(frozen=True)
class BuiltRelation:
    schema: str
    name: str
    resource_type: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class NamespaceRecord:
    namespace: str
    owner: str
    is_production: bool
    last_command: str
    last_build_at: datetime


@dataclass(frozen=True)
class RelationRecord:
    namespace: str
    relation: str
    resource_type: str
    owner: str
    built_at: datetime

    @property
    def schema(self) -> str:
        return self.relation.split(".", 1)[0]


def built_relations(settings: Settings, results: Iterable[Mapping[str, Any]]) -> list[BuiltRelation]:
    """The relations a dbt invocation left in the warehouse, from its node results.

    Outside production only relations inside the namespace count: a project whose profile ignores
    OVERCLOCK_NAMESPACE (any dbt project Overclock is pointed at) is not namespaced, and recording its
    relations as the namespace's would let `ns drop` believe it owns them.
    """
    namespace = settings.namespace
    relations = []
    for result in results:
        resource_type = str(result.get("resource_type", "")).rsplit(".", 1)[-1]
        status = str(result.get("status", "")).rsplit(".", 1)[-1]
        schema, name = result.get("schema"), result.get("alias")
        if not schema or not name or status not in _BUILT_STATUSES:
            continue
        if resource_type == "test" and not result.get("relation_name"):
            continue  # a test without --store-failures leaves no table
        if not namespace.is_production and not schema_belongs_to(str(schema), namespace.name):
            continue
        relations.append(BuiltRelation(str(schema), str(name), resource_type))
    return relations


def _table(name: str) -> Any:
    from sqlglot import exp

    return exp.to_table(name)


def _literal(value: object) -> Any:
    from sqlglot import exp

    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, datetime):
        stamp = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        return exp.cast(exp.Literal.string(stamp), exp.DataType.build("timestamptz"))
    return exp.Literal.string(str(value))


def _ensure_tables(provider: Provider) -> None:
    from sqlglot import exp

    provider.execute(provider.render(exp.Create(kind="SCHEMA", exists=True, this=_table(REGISTRY_SCHEMA))))
    for table, columns in _COLUMNS.items():
        definition = exp.Schema(
            this=_table(table),
            expressions=[
                exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind))
                for name, kind in columns
            ],
        )
        provider.execute(provider.render(exp.Create(kind="TABLE", exists=True, this=definition)))


def _with_tables(provider: Provider, work: Any) -> Any:
    """Run `work(provider)`; if the registry tables are missing, create them and run it once more.

    Creating first on every call would cost a round trip per statement on BigQuery; and two processes
    creating at once can collide on PostgreSQL's catalog, which the second attempt absorbs.
    """
    try:
        return work(provider)
    except Exception:
        for attempt in range(2):
            try:
                _ensure_tables(provider)
                break
            except Exception:
                if attempt:
                    raise
        return work(provider)


def _insert(provider: Provider, table: str, rows: Sequence[Sequence[object]]) -> None:
    from sqlglot import exp

    columns = [name for name, _ in _COLUMNS[table]]
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = [tuple(_literal(value) for value in row) for row in rows[start : start + _INSERT_BATCH]]
        provider.execute(provider.render(exp.insert(exp.values(batch), table, columns=columns)))


def record_build(
    provider: Provider,
    namespace: str,
    is_production: bool,
    owner: str,
    command: str,
    relations: Sequence[BuiltRelation],
    now: datetime | None = None,
) -> None:
    """Record that `owner` ran `command` in `namespace` at `now` and built `relations`."""
    from sqlglot import exp

    built_at = now or datetime.now(UTC)
    is_namespace = exp.column("namespace").eq(_literal(namespace))

    def write(provider: Provider) -> None:
        provider.delete_rows(NAMESPACES_TABLE, is_namespace)
        _insert(provider, NAMESPACES_TABLE, [(namespace, owner, is_production, command, built_at)])
        unique = {relation.qualified: relation for relation in relations}
        for start in range(0, len(unique), _INSERT_BATCH):
            names = [_literal(name) for name in list(unique)[start : start + _INSERT_BATCH]]
            where = is_namespace.and_(exp.column("relation").isin(*names))
            provider.delete_rows(RELATIONS_TABLE, where)
        rows = [(namespace, r.qualified, r.resource_type, owner, built_at) for r in unique.values()]
        _insert(provider, RELATIONS_TABLE, rows)

    _with_tables(provider, write)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def read_registry(
    provider: Provider, registry_exists: bool | None = None
) -> tuple[list[NamespaceRecord], list[RelationRecord]]:
    """Every namespace's newest record and every recorded relation; empty if there is no registry yet
    (`registry_exists` when the caller has listed the schemas already)."""
    from sqlglot import exp

    def read(provider: Provider) -> list[list[tuple[Any, ...]]]:
        return [
            provider.query(
                provider.render(exp.select(*(name for name, _ in _COLUMNS[table])).from_(_table(table)))
            )
            for table in (NAMESPACES_TABLE, RELATIONS_TABLE)
        ]

    if registry_exists is None:
        registry_exists = any(info.name == REGISTRY_SCHEMA for info in provider.list_schemas(REGISTRY_SCHEMA))
    if not registry_exists:
        return [], []
    namespace_rows, relation_rows = _with_tables(provider, read)
    newest: dict[str, NamespaceRecord] = {}
    for name, owner, is_production, command, built_at in namespace_rows:
        record = NamespaceRecord(name, owner, bool(is_production), command, _as_utc(built_at))
        if name not in newest or record.last_build_at > newest[name].last_build_at:
            newest[name] = record
    relations = [
        RelationRecord(name, relation, resource_type, owner, _as_utc(built_at))
        for name, relation, resource_type, owner, built_at in relation_rows
    ]
    return sorted(newest.values(), key=lambda r: r.namespace), relations


def forget(provider: Provider, namespace: str) -> None:
    """Remove a dropped namespace from the registry."""
    from sqlglot import exp

    is_namespace = exp.column("namespace").eq(_literal(namespace))

    def delete(provider: Provider) -> None:
        for table in (NAMESPACES_TABLE, RELATIONS_TABLE):
            provider.delete_rows(table, is_namespace)

    _with_tables(provider, delete)


def record_invocation(
    settings: Settings, command: str, results: Iterable[Mapping[str, Any]], owner: str
) -> list[BuiltRelation]:
    """After a dbt command: record what it built in the warehouse's registry. Returns those relations."""
    from framework.providers import provider_for

    relations = built_relations(settings, results)
    if not relations:
        return relations
    with provider_for(settings) as provider:
        record_build(
            provider,
            settings.namespace.name,
            settings.namespace.is_production,
            owner,
            command,
            relations,
        )
    return relations
