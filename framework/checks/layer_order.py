"""Layers only read downwards: staging → intermediate → marts. A model never reads from a later layer."""

from __future__ import annotations

from collections.abc import Iterator

from framework.checks.config import RuleSettings
from framework.checks.rule import CheckContext, Rule
from framework.checks.violations import Finding


class LayerOrder(Rule):
    name = "layer_order"
    description = "a model reads only from its own layer or earlier ones (staging → intermediate → marts)"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        manifest = context.manifest
        for unique_id, node in context.models():
            layer = context.layer_of(node)
            rank = context.layer_rank(layer)
            if rank is None:
                continue
            for parent_id in sorted(manifest.parents(unique_id)):
                parent = manifest.models.get(parent_id)
                if parent is None:
                    continue
                parent_layer = context.layer_of(parent)
                parent_rank = context.layer_rank(parent_layer)
                if parent_rank is not None and parent_rank > rank:
                    yield Finding(
                        unique_id,
                        f"{layer} model reads {parent_layer} model {parent['name']}: layers read only "
                        f"downwards ({' → '.join(context.config.layers)})",
                        line=context.call_line(node, parent),
                        details={"reads": parent_id, "layer": layer, "reads_layer": parent_layer},
                    )
