"""Column-level lineage over compiled SQL: which columns a model outputs, with what type, built from what.

For one manifest, `ShapeResolver` gives every node's *shape* — its output columns, each with a declared type
(schema .yml / contract), an inferred type (sqlglot's type annotation) and the upstream columns it is built
from (sqlglot's lineage). Models are qualified against their parents' shapes, so `select *` expands to real
columns and a pass-through column keeps its upstream type. `analyse` also reports which upstream columns a
query uses outside its projection (joins, filters, grouping): removing one of those breaks the query too.

Lineage is best effort: SQL sqlglot cannot qualify leaves a shape unknown (None), never a wrong answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from framework.checks.manifest import Manifest, contract_enforced

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope

UNKNOWN_TYPE = "UNKNOWN"
ANY_COLUMN = "*"  # a use of every column of a relation: an unexpandable `select *`

ColumnRef = tuple[str, str]  # (unique id of the relation's node, column name)


@dataclass(frozen=True)
class OutputColumn:
    name: str
    declared_type: str | None = None  # from the schema .yml (what a contract enforces)
    inferred_type: str | None = None  # from sqlglot's type annotation of the compiled SQL
    expression: str = ""  # the qualified projection without its alias: same expression, same column
    sources: frozenset[ColumnRef] = frozenset()


@dataclass(frozen=True)
class Shape:
    """A node's output columns in order, or None when they cannot be known (no SQL, unexpandable star)."""

    columns: Mapping[str, OutputColumn] | None
    origin: str = "sql"  # sql | yml | unknown


UNKNOWN_SHAPE = Shape(None, "unknown")


@dataclass(frozen=True)
class Analysis:
    """One query's lineage: its shape and every upstream column it reads, and where."""

    shape: Shape
    # output column -> upstream columns it is built from
    outputs: dict[str, frozenset[ColumnRef]] = field(default_factory=dict)
    # upstream column -> the clauses outside the projection that use it (join, where, group, ...)
    clause_uses: dict[ColumnRef, set[str]] = field(default_factory=dict)


def normalize_type(data_type: Any, dialect: str) -> str | None:
    """A type as sqlglot writes it in the dialect (`integer` and `INT4` both become `INT`), or None."""
    if not data_type or not isinstance(data_type, str):
        return None
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        built = exp.DataType.build(data_type, dialect=dialect or None)
    except (SqlglotError, ValueError):
        return data_type.strip().upper()
    if built.is_type(exp.DataType.Type.UNKNOWN):
        return None
    return built.sql(dialect=dialect or None).upper()


def declared_columns(node: Mapping[str, Any], dialect: str) -> dict[str, OutputColumn]:
    return {
        str(name).lower(): OutputColumn(
            str(name).lower(), declared_type=normalize_type(column.get("data_type"), dialect)
        )
        for name, column in (node.get("columns") or {}).items()
    }


def declared_shape(node: Mapping[str, Any], dialect: str) -> Shape:
    """The columns the schema .yml declares, where they are authoritative: a source or seed (nothing else
    says), or a contract-enforced model (dbt fails the build otherwise). On any other model they are
    documentation, and may well list only some of its columns."""
    authoritative = node.get("resource_type") in ("source", "seed") or contract_enforced(node)
    declared = declared_columns(node, dialect) if authoritative else {}
    return Shape(declared, "yml") if declared else UNKNOWN_SHAPE


# A relation that is a table function (dbt-duckdb's external sources: `read_parquet('...')`) gets a
# three-part stand-in name, the same wherever it is met, so that it can carry its source's declared columns.
_EXTERNAL = "overclock_external"


def _function_key(function: exp.Expr) -> tuple[str, str, str]:
    text = function.sql().lower()
    return (_EXTERNAL, _EXTERNAL, "r" + hashlib.sha1(text.encode()).hexdigest()[:16])


def table_key(table: exp.Table) -> tuple[str, ...]:
    from sqlglot import exp

    if isinstance(table.this, exp.Func):
        return _function_key(table.this)
    return tuple(part.name.lower() for part in table.parts)


def name_table_functions(tree: exp.Expr) -> exp.Expr:
    """Replace each table function in `tree` by its stand-in table (see `_function_key`)."""
    from sqlglot import exp

    for table in list(tree.find_all(exp.Table)):
        if isinstance(table.this, exp.Func):
            catalog, db, name = _function_key(table.this)
            table.replace(exp.table_(name, db=db, catalog=catalog, alias=table.alias or None))
    return tree


# dbt writes relation names as quoted parts joined by dots: "db"."schema"."table", `project`.`dataset`.`t`.
_QUOTED_PARTS = re.compile(
    r'^(?:"[^"]*"|`[^`]*`|[A-Za-z_][\w$-]*)(?:\.(?:"[^"]*"|`[^`]*`|[A-Za-z_][\w$-]*))*$'
)


def relation_key(relation_name: str | None, dialect: str) -> tuple[str, ...] | None:
    """A relation name as lower-cased parts, or None when it is not a plain table (e.g. read_parquet(...))."""
    if not relation_name:
        return None
    if _QUOTED_PARTS.match(relation_name):  # the common case, without a parser: thousands per check
        parts = re.findall(r'"([^"]*)"|`([^`]*)`|([^."`]+)', relation_name)
        return tuple("".join(groups).lower() for groups in parts)
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        table = exp.to_table(relation_name, dialect=dialect or None)
    except (SqlglotError, ValueError):
        return None
    if isinstance(table, exp.Table) and isinstance(table.this, exp.Func):
        return _function_key(table.this)  # dbt-duckdb's external sources render as read_parquet(...)
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        return None
    return table_key(table)


class ShapeResolver:
    """Shapes of one manifest's nodes, each computed once, parents before children."""

    def __init__(
        self,
        manifest: Manifest,
        dialect: str,
        parse: Callable[[Mapping[str, Any]], exp.Expr | None],
    ) -> None:
        self.manifest = manifest
        self.dialect = dialect
        self._parse = parse
        self._shapes: dict[str, Shape] = {}
        self._relations: dict[tuple[str, ...], str] | None = None

    @property
    def relations(self) -> dict[tuple[str, ...], str]:
        """Relation name (lower-cased parts) -> unique id, for every node that lands in the warehouse."""
        if self._relations is None:
            index: dict[tuple[str, ...], str] = {}
            for collection in (self.manifest.nodes, self.manifest.sources):
                for unique_id, node in collection.items():
                    key = relation_key(node.get("relation_name"), self.dialect)
                    if key:
                        index[key] = unique_id
            self._relations = index
        return self._relations

    def shape(self, unique_id: str) -> Shape:
        if unique_id in self._shapes:
            return self._shapes[unique_id]
        # Post-order walk without recursion: deep DAGs would overflow Python's stack.
        stack: list[tuple[str, bool]] = [(unique_id, False)]
        in_progress: set[str] = set()
        while stack:
            current, parents_done = stack.pop()
            if current in self._shapes:
                continue
            parents = self._parents(current)
            if not parents_done:
                in_progress.add(current)
                stack.append((current, True))
                stack.extend(
                    (parent, False)
                    for parent in parents
                    if parent not in self._shapes and parent not in in_progress  # a cycle: leave unknown
                )
                continue
            in_progress.discard(current)
            self._shapes[current] = self._compute(current)
        return self._shapes[unique_id]

    def _parents(self, unique_id: str) -> list[str]:
        node = self.manifest.get(unique_id) or {}
        return list((node.get("depends_on") or {}).get("nodes") or ())

    def _compute(self, unique_id: str) -> Shape:
        node = self.manifest.get(unique_id)
        if node is None:
            return UNKNOWN_SHAPE
        if node.get("resource_type") in ("model", "snapshot") and node.get("compiled_code"):
            analysis = self.analyse(node, self.shape)
            if analysis is not None and analysis.shape.columns is not None:
                return analysis.shape
        return declared_shape(node, self.dialect)

    def analyse(self, node: Mapping[str, Any], parent_shape: Callable[[str], Shape]) -> Analysis | None:
        """Qualify the node's compiled SQL against its parents' shapes (as `parent_shape` gives them)."""
        tree = self._parse(node)
        if tree is None:
            return None
        from sqlglot.errors import SqlglotError

        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        try:
            return self._analyse(node, tree.copy(), parent_shape)
        except (SqlglotError, ValueError, KeyError, AttributeError, TypeError, RecursionError):
            return None  # sqlglot could not follow this query: its lineage stays unknown

    def _schema(self, node: Mapping[str, Any], parent_shape: Callable[[str], Shape]) -> dict[str, Any]:
        nested: dict[str, Any] = {}
        depth: int | None = None
        for parent_id in (node.get("depends_on") or {}).get("nodes") or ():
            parent = self.manifest.get(parent_id) or {}
            key = relation_key(parent.get("relation_name"), self.dialect)
            columns = parent_shape(parent_id).columns
            if not key or columns is None:
                continue
            if depth is None:
                depth = len(key)
            if len(key) != depth:
                continue  # sqlglot's schema wants one nesting depth; the odd one stays unexpanded
            level = nested
            for part in key[:-1]:
                level = level.setdefault(part, {})
            level[key[-1]] = {
                name: column.declared_type or column.inferred_type or UNKNOWN_TYPE
                for name, column in columns.items()
            }
        return nested

    def _analyse(
        self, node: Mapping[str, Any], tree: exp.Expr, parent_shape: Callable[[str], Shape]
    ) -> Analysis:
        from sqlglot import exp
        from sqlglot.lineage import lineage
        from sqlglot.optimizer.annotate_types import annotate_types
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.optimizer.scope import build_scope
        from sqlglot.schema import MappingSchema

        dialect = self.dialect or None
        schema = MappingSchema(self._schema(node, parent_shape), dialect=dialect)
        qualified = qualify(
            name_table_functions(tree),
            dialect=dialect,
            schema=schema,
            validate_qualify_columns=False,
            identify=False,
        )
        annotate_types(qualified, schema=schema, dialect=dialect)
        scope = build_scope(qualified)
        if scope is None or not isinstance(qualified, exp.Query):
            raise ValueError("not a query")
        projections = qualified.selects
        expandable = all(
            not isinstance(projection, exp.Star)
            and not projection.find(exp.Star)
            and projection.alias_or_name
            for projection in projections
        )
        outputs: dict[str, frozenset[ColumnRef]] = {}
        for name, root in lineage(
            None, qualified, schema, dialect=dialect, scope=scope, trim_selects=False
        ).items():
            outputs[name.lower()] = frozenset(self._leaves(root.walk()))
        declared = declared_columns(node, self.dialect)
        if expandable:
            columns: dict[str, OutputColumn] = {}
            for projection in projections:
                name = projection.alias_or_name.lower()
                inferred = normalize_type(
                    projection.type.sql(dialect=dialect) if projection.type else None, self.dialect
                )
                body = projection.this if isinstance(projection, exp.Alias) else projection
                columns.setdefault(
                    name,
                    OutputColumn(
                        name,
                        declared_type=declared[name].declared_type if name in declared else None,
                        inferred_type=inferred,
                        expression=body.sql(dialect=dialect),
                        sources=outputs.get(name, frozenset()),
                    ),
                )
            shape = Shape(columns, "sql")
        else:  # a star sqlglot could not expand: only a contract can say what comes out
            shape = declared_shape(node, self.dialect)
        return Analysis(shape=shape, outputs=outputs, clause_uses=self._clause_uses(scope, schema))

    def _leaves(self, nodes: Any) -> set[ColumnRef]:
        from sqlglot import exp

        leaves: set[ColumnRef] = set()
        for lineage_node in nodes:
            table = lineage_node.expression
            if lineage_node.downstream or not isinstance(table, exp.Table):
                continue
            unique_id = self.relations.get(table_key(table))
            if unique_id is None:
                continue
            column = lineage_node.name.rsplit(".", 1)[-1].strip('"`').lower()
            leaves.add((unique_id, ANY_COLUMN if column == "*" else column))
        return leaves

    def _clause_uses(self, root: Scope, schema: Any) -> dict[ColumnRef, set[str]]:
        """Upstream columns read outside any projection (joins, filters, grouping, ordering, windows' keys)."""
        from sqlglot import exp
        from sqlglot.lineage import to_node
        from sqlglot.optimizer.scope import Scope

        uses: dict[ColumnRef, set[str]] = {}
        for scope in root.traverse():
            select = scope.expression
            if not isinstance(select, exp.Select):
                continue
            for column in scope.columns:
                clause = _clause_of(column, select)
                if clause is None:
                    continue
                source = scope.sources.get(column.table)
                refs: set[ColumnRef] = set()
                if isinstance(source, exp.Table):
                    unique_id = self.relations.get(table_key(source))
                    if unique_id is not None:
                        refs.add((unique_id, column.name.lower()))
                elif isinstance(source, Scope):
                    try:
                        traced = to_node(
                            column.name, source, self.dialect or None, schema=schema, trim_selects=False
                        )
                    except Exception:
                        continue
                    refs = self._leaves(traced.walk())
                for ref in refs:
                    uses.setdefault(ref, set()).add(clause)
        return uses


def _clause_of(column: exp.Expr, select: exp.Expr) -> str | None:
    """The clause of `select` holding `column`, or None when it sits in the projection list."""
    child: exp.Expr = column
    parent = column.parent
    while parent is not None and parent is not select:
        child, parent = parent, parent.parent
    if parent is None:
        return None
    key = child.arg_key or ""
    if key == "expressions":
        return None
    return {"joins": "join", "laterals": "lateral"}.get(key, key)
