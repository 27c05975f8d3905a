"""The cached state of one setup, and the lazily parsed manifest nodes that keep the warm path cheap.

A 2,500-model manifest is ~15 MB of nested JSON; parsing all of it costs more than everything else an edit
needs. The state therefore keeps each node as its own JSON text plus a small index (name, package, type,
file, enabled): loading the state parses only the index, a node is parsed when something reads it, and the
written manifest splices the untouched nodes' text back in as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

# index entry: [name, package_name, resource_type, original_file_path, enabled]
NAME, PACKAGE, TYPE, FILE, ENABLED = range(5)


def index_entry(node: Mapping[str, Any]) -> list[Any]:
    return [
        node["name"],
        node["package_name"],
        node["resource_type"],
        node["original_file_path"],
        bool(node.get("config", {}).get("enabled", True)),
    ]


class LazyNodes(MutableMapping[str, dict[str, Any]]):
    """unique_id -> node dict, parsed on first access; serialised back only where it changed."""

    def __init__(self, texts: dict[str, str], index: dict[str, list[Any]]) -> None:
        self._texts = texts
        self._parsed: dict[str, dict[str, Any]] = {}
        self.index = index

    @classmethod
    def of(cls, nodes: Mapping[str, dict[str, Any]]) -> LazyNodes:
        lazy = cls({}, {})
        for unique_id, node in nodes.items():
            lazy[unique_id] = node
        return lazy

    def __getitem__(self, unique_id: str) -> dict[str, Any]:
        node = self._parsed.get(unique_id)
        if node is None:
            import orjson

            node = self._parsed[unique_id] = orjson.loads(self._texts[unique_id])
        return node

    def __setitem__(self, unique_id: str, node: dict[str, Any]) -> None:
        self._parsed[unique_id] = node
        self._texts.pop(unique_id, None)
        self.index[unique_id] = index_entry(node)

    def __delitem__(self, unique_id: str) -> None:
        self._parsed.pop(unique_id, None)
        self._texts.pop(unique_id, None)
        del self.index[unique_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, unique_id: object) -> bool:
        return unique_id in self.index

    def text(self, unique_id: str) -> bytes:
        """The node's JSON (as written by orjson)."""
        import orjson

        text = self._texts.get(unique_id)
        if text is None:
            return orjson.dumps(self._parsed[unique_id])
        return text.encode("utf-8")

    def texts(self) -> dict[str, str]:
        import orjson

        return {uid: self._texts.get(uid) or orjson.dumps(self._parsed[uid]).decode() for uid in self.index}


def pack(state: dict[str, Any]) -> dict[str, Any]:
    """The state as stored: manifest nodes as texts plus their index."""
    manifest = dict(state["manifest"])
    nodes = manifest.pop("nodes")
    lazy = nodes if isinstance(nodes, LazyNodes) else LazyNodes.of(nodes)
    return {**state, "manifest": manifest, "node_texts": lazy.texts(), "node_index": lazy.index}


def unpack(stored: dict[str, Any]) -> dict[str, Any]:
    manifest = dict(stored.pop("manifest"))
    manifest["nodes"] = LazyNodes(stored.pop("node_texts"), stored.pop("node_index"))
    return {**stored, "manifest": manifest}
