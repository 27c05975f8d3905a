"""Per-developer namespaces: naming, deferral to production, listing and garbage collection."""
