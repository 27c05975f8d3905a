"""Differentially private partition selection: release the items (n-grams, queries, keys) many users hold.

The pipeline, one module per stage:

    parameters   (ε, δ), Δ0, algorithm — validated before any data is read
    calibration  σ of the analytic Gaussian mechanism (Balle & Wang 2018), rounded up
    thresholds   T for Gaussian and Laplace noise, rounded up
    plan         what each round gets (Basic, Laplace, adaptive two-round with its budget split)
    bounding     at most Δ0 items per user, chosen by a seeded md5 ranking (the reference)
    weighting    1/√d (or 1/d) per kept item, summed per item (the reference loop)
    sql          bounding + weighting as portable SQL (DuckDB, PostgreSQL, BigQuery) built with sqlglot
    duckdb_weighting  that SQL run on DuckDB, returning one (item, weight) row per item
    noise        a PCG64 generator seeded from `secrets` (a fixed seed only in tests and benchmarks)
    selection    noise + threshold per round, in numpy
    release      the whole release as the dbt models run it, and the ledger rows

Nothing is imported here: `import framework.privacy` stays free for the CLI.
"""
