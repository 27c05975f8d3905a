"""Partial DAG compilation: fingerprints, content-addressed cache, fast renderer, artifact writer."""
