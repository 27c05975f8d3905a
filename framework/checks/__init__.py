"""Compiled-DAG checks for CI: SQL validity, DAG rules, breaking changes, reporters."""
