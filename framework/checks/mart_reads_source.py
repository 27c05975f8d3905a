"""Marts build on staged data, never on raw sources: raw tables are cleaned once, in staging.

Option `layers` (default `[marts]`) names the layers that may not read a source.
"""

from __future__ import annotations

from collections.abc import Iterator

from framework.checks.config import RuleSettings
from framework.checks.rule import CheckContext, Rule
from framework.checks.violations import Finding


class MartReadsSource(Rule):
    name = "mart_reads_source"
    description = "no mart reads a raw source directly"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        forbidden = set(settings.options.get("layers") or ["marts"])
        manifest = context.manifest
        for unique_id, node in context.models():
            layer = context.layer_of(node)
            if layer not in forbidden:
                continue
            for parent_id in sorted(manifest.parents(unique_id)):
                source = manifest.sources.get(parent_id)
                if source is None:
                    continue
                yield Finding(
                    unique_id,
                    f"{layer} model reads raw source {source['source_name']}.{source['name']}: "
                    "read its staging model instead",
                    line=context.call_line(node, source),
                    details={"source": parent_id},
                )
