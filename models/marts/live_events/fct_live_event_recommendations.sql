{#-
    The materialized recommendations devices prefetch: for each segment and each coming event of its region
    (not cancelled, starting within the horizon), the top N available titles of the event's genre, ranked by
    the segment's minutes watched, then all members' minutes, then title id; with the metadata and artwork a
    device shows.

    `payload_version` is the md5 of the payload's canonical content: "event_id|event_name", then one row per
    title ("rank|title_id|title_name|genre|maturity_rating|release_year|runtime_minutes|synopsis|boxart_url|
    hero_url"), joined by ";". Scores, schedules and build times are not content, so the version changes if
    and only if what a device would show changes, and a device holding it need not fetch again. A delay
    moves the broadcast, not the payload.
-#}
{%- set top_n = var('live_events_top_n', 10) -%}

with

event_state as (

    select * from {{ ref('int_live_event_state') }}

),

segments as (

    select * from {{ ref('stg_live_events__segments') }}

),

titles as (

    select * from {{ ref('stg_live_events__titles') }}

),

artwork as (

    select * from {{ ref('stg_live_events__artwork') }}

),

scores as (

    select * from {{ ref('int_live_event_segment_title_scores') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

coming_events as (

    select event_state.*
    from event_state
    cross join clock
    where
        event_state.state in ('scheduled', 'delayed')
        and event_state.effective_start_at <= clock.recommendation_horizon_end_at

),

available_titles as (

    select titles.*
    from titles
    cross join clock
    where
        titles.available_from <= clock.evaluated_at
        and (titles.available_until is null or titles.available_until > clock.evaluated_at)

),

title_artwork as (

    select
        title_id,
        max(case when image_type = 'boxart' then image_url end) as boxart_url,
        max(case when image_type = 'hero' then image_url end) as hero_url

    from artwork
    group by title_id

),

candidates as (

    select
        segments.segment_id,
        coming_events.event_id,
        coming_events.event_name,
        available_titles.title_id,
        available_titles.title_name,
        available_titles.genre,
        available_titles.maturity_rating,
        available_titles.release_year,
        available_titles.runtime_minutes,
        available_titles.synopsis,
        title_artwork.boxart_url,
        title_artwork.hero_url,
        scores.segment_minutes,
        scores.all_members_minutes

    from coming_events
    inner join segments
        on segments.region = coming_events.region
    inner join available_titles
        on available_titles.genre = coming_events.genre
    inner join scores
        on scores.segment_id = segments.segment_id
        and scores.title_id = available_titles.title_id
    left join title_artwork
        on title_artwork.title_id = available_titles.title_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by segment_id, event_id
            order by segment_minutes desc, all_members_minutes desc, title_id
        ) as recommendation_rank

    from candidates

),

recommended as (

    select
        *,
        {{ dbt.concat([
            "cast(recommendation_rank as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(title_id as " ~ dbt.type_string() ~ ")", "'|'",
            "title_name", "'|'",
            "genre", "'|'",
            "maturity_rating", "'|'",
            "cast(release_year as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(runtime_minutes as " ~ dbt.type_string() ~ ")", "'|'",
            "synopsis", "'|'",
            "coalesce(boxart_url, '')", "'|'",
            "coalesce(hero_url, '')",
        ]) }} as payload_row

    from ranked
    where recommendation_rank <= {{ top_n }}

),

payloads as (

    select
        segment_id,
        event_id,
        count(*) as payload_title_count,
        {{ dbt.hash(dbt.concat([
            "cast(event_id as " ~ dbt.type_string() ~ ")", "'|'",
            "event_name", "';'",
            dbt.listagg("payload_row", "';'", "order by recommendation_rank"),
        ])) }} as payload_version

    from recommended
    group by
        segment_id,
        event_id,
        event_name

),

final as (

    select
        recommended.segment_id,
        recommended.event_id,
        recommended.recommendation_rank,
        recommended.title_id,
        recommended.title_name,
        recommended.genre,
        recommended.maturity_rating,
        recommended.release_year,
        recommended.runtime_minutes,
        recommended.synopsis,
        recommended.boxart_url,
        recommended.hero_url,
        recommended.segment_minutes,
        recommended.all_members_minutes,
        payloads.payload_version,
        payloads.payload_title_count

    from recommended
    inner join payloads
        on payloads.segment_id = recommended.segment_id
        and payloads.event_id = recommended.event_id

)

select * from final
