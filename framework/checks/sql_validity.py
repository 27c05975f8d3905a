"""Every compiled model parses in its target's SQL dialect; an error points to the model's file and line."""

from __future__ import annotations

from collections.abc import Iterator

from framework.checks.config import RuleSettings
from framework.checks.rule import CheckContext, Rule
from framework.checks.sql import source_line
from framework.checks.violations import Finding


class SqlValidity(Rule):
    name = "sql_validity"
    description = "every compiled model parses in its target's SQL dialect"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        dialect = context.dialect or "generic SQL"
        # Python models and nodes not compiled in this run have nothing to parse.
        nodes = [
            (unique_id, node)
            for unique_id, node in context.models()
            if node.get("compiled_code") is not None and node.get("language", "sql") == "sql"
        ]
        errors = context.sql_errors([node for _, node in nodes])
        for (unique_id, node), error in zip(nodes, errors, strict=True):
            if error is None:
                continue
            compiled = str(node.get("compiled_code"))
            line = None
            if error.line is not None:
                line = source_line(node.get("raw_code") or "", compiled, error.line, error.highlight)
            near = f" near '{error.highlight}'" if error.highlight else ""
            where = f" (compiled line {error.line})" if error.line is not None else ""
            yield Finding(
                unique_id,
                f"compiled SQL does not parse as {dialect}: {error.message}{near}{where}",
                line=line,
                details={"compiled_line": error.line, "compiled_column": error.column},
            )
