"""Entry-point discovery: third-party (and first-party) extensions register under these groups.

- `overclock.checks`: rules for `overclock check` (subclasses of `framework.checks.Rule`, or instances)
- `overclock.strategies`: incremental / backfill strategies
- `overclock.providers`: engine providers

Register in a package's pyproject.toml, e.g.

    [project.entry-points."overclock.checks"]
    naming_conventions = "plugins.naming_conventions:NamingConventions"
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUPS = ("overclock.checks", "overclock.strategies", "overclock.providers")


class PluginError(Exception):
    """A plugin's entry point cannot be loaded; the message names it and the package that declares it."""


@cache
def load_plugins(group: str) -> dict[str, Any]:
    """Entry-point name -> the loaded object, for every installed distribution registering in `group`."""
    if group not in GROUPS:
        raise PluginError(f"unknown plugin group {group!r}; known groups: {', '.join(GROUPS)}")
    loaded: dict[str, Any] = {}
    for entry_point in entry_points(group=group):
        if entry_point.name in loaded:
            continue  # the same distribution seen twice on sys.path (editable installs): first one wins
        try:
            loaded[entry_point.name] = entry_point.load()
        except Exception as exc:  # a broken plugin must say which one it is, not crash with a bare traceback
            distribution = getattr(entry_point.dist, "name", None) or "an installed package"
            raise PluginError(
                f"plugin '{entry_point.name}' ({entry_point.value}) from {distribution} failed to load "
                f"in group {group}: {type(exc).__name__}: {exc}"
            ) from exc
    return loaded
