"""The DAG has no cycles. dbt refuses to compile one, so a cycle is reported from the parsed manifest."""

from __future__ import annotations

from collections.abc import Iterator

from framework.checks.config import RuleSettings
from framework.checks.rule import CheckContext, Rule
from framework.checks.violations import Finding


class DagAcyclic(Rule):
    name = "dag_acyclic"
    description = "the DAG has no cycles"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        import networkx as nx

        graph = context.manifest.graph
        models = context.manifest.models
        # One finding per strongly connected component: every cycle through the same models is one problem.
        for component in nx.strongly_connected_components(graph):
            if len(component) == 1 and not graph.has_edge(*(next(iter(component)),) * 2):
                continue
            members = sorted(component)
            start = next((member for member in members if member in models), members[0])
            if context.selected is not None and not context.selected & component:
                continue
            cycle = nx.find_cycle(graph.subgraph(component), source=start)
            path = [edge[0] for edge in cycle] + [start]
            names = [str((context.manifest.get(member) or {}).get("name", member)) for member in path]
            node = context.manifest.get(start) or {}
            parent_in_cycle = context.manifest.get(path[-2]) or {}  # `start` reads it: point at that ref
            yield Finding(
                start,
                f"cycle in the DAG: {' -> '.join(names)} (each is read by the next)",
                line=context.call_line(node, parent_in_cycle),
                details={"cycle": path},
            )
