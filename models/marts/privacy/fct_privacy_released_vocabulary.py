"""The chat vocabulary released with user-level (ε, δ)-differential privacy: one row per released n-gram.

No single author's presence can be inferred from which n-grams appear here. The work is in
framework.privacy (bounding and weighting as SQL on DuckDB, noise and thresholds in numpy); the parameters
are dbt vars, validated before any data is read. Each build is a new release and spends the budget again:
fct_privacy_vocabulary_releases keeps the ledger.
"""


def model(dbt, session):
    from framework.privacy.release import (
        current_release,
        noise_seed_from_config,
        parameters_from_config,
        release_vocabulary,
        vocabulary_table,
    )

    dbt.config(materialized="table")
    # dbt learns which meta keys a Python model reads by scanning for literal meta_get calls: one per key.
    settings = {
        "epsilon": dbt.config.meta_get("epsilon"),
        "delta": dbt.config.meta_get("delta"),
        "max_items_per_user": dbt.config.meta_get("max_items_per_user"),
        "algorithm": dbt.config.meta_get("algorithm"),
        "round1_share": dbt.config.meta_get("round1_share"),
        "composition": dbt.config.meta_get("composition"),
        "noise_seed": dbt.config.meta_get("noise_seed"),
    }
    parameters = parameters_from_config(settings.get)
    noise_seed = noise_seed_from_config(settings.get)

    contributions = dbt.ref("int_privacy__ngram_contributions")
    release = release_vocabulary(
        session,
        contributions,
        parameters,
        user_column="author_id",
        item_column="ngram",
        noise_seed=noise_seed,
    )
    release_id, _ = current_release()
    return vocabulary_table(release, release_id)
