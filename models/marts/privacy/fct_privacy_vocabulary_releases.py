"""The release ledger: one row per round of every vocabulary release (parameters, σ, T, items released).

Appended on every build, so the table shows what each release disclosed and what privacy budget it spent.
It holds nothing about unreleased n-grams. σ and T are recomputed from the same vars (a pure function of
them); the counts come from the released vocabulary itself.
"""


def model(dbt, session):
    from framework.privacy.plan import plan_selection
    from framework.privacy.release import (
        current_release,
        noise_seed_from_config,
        parameters_from_config,
        record_table,
    )

    dbt.config(materialized="incremental", incremental_strategy="append")
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
    plan = plan_selection(parameters_from_config(settings.get))
    noise_seeded = noise_seed_from_config(settings.get) is not None

    release_id, released_at = current_release()
    vocabulary = dbt.ref("fct_privacy_released_vocabulary")
    counts = vocabulary.filter(f"release_id = '{release_id}'").aggregate(
        "released_in_round, count(*) as items", "released_in_round"
    )
    items_per_round = {int(round_): int(items) for round_, items in counts.fetchall()}
    return record_table(plan, items_per_round, release_id, released_at, noise_seeded)
