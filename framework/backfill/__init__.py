"""Backfills: planner (partitions x sub-DAG), state store, executor (workers, retries, resume)."""
