"""The search-indexing feed outside dbt: export the built bulk actions as Elasticsearch `_bulk` NDJSON files.

The models (models/*/search) decide what to send, where and in which batch; this package only reads the
marts from the target warehouse and writes one file per batch, grouped per destination cluster and index.
"""

from __future__ import annotations

from framework.search_feed.export import (
    ExportedBatch,
    SearchFeedError,
    SearchFeedExport,
    export_search_feed,
)

__all__ = ["ExportedBatch", "SearchFeedError", "SearchFeedExport", "export_search_feed"]
