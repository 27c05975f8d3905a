"""Seeded raw data for the live-event recommendations domain.

The shapes follow Netflix's "Behind the Streams" (part 3): before a live event, devices prefetch materialized
per-segment recommendations (metadata and artwork) spread over a window; at the key moment a small broadcast
tells connected devices to show what they cached, and they acknowledge it, at least once.

- Live events belong to a region and are announced days ahead. Live State Management publishes schedule
  changes: delays (a new start and end), early ends, overruns and cancellations. Each change carries the time
  it was decided (`changed_at`) and the time it reached us (`received_at`): a few arrive late, after a newer
  change of the same event, and a few are delivered twice.
- Members sit in taste segments of their region; devices belong to members and to a device cohort (platform
  and generation) whose prefetch lead time, cache grace and expiry jitter are data, not code.
- Catalog titles carry metadata and artwork; viewing history feeds the ranking.
- The device prefetch log records which payload version each device downloaded. The versions are the ones the
  warehouse serves: `_PayloadRanking` mirrors the ranking and the canonical payload content of
  `fct_live_event_recommendations`, so a device that fetched today holds the current version and one that
  fetched before the daily re-ranking may hold a stale one (tests check that the two agree).
- Broadcast acknowledgements echo the idempotency key of `fct_live_event_broadcast_triggers` for every trigger
  that has fired; some devices acknowledge twice (at-least-once delivery) and a few log rows arrive twice.

All times are UTC and everything happens before the demo clock, `NOW` (2025-06-01 12:00): the warehouse sees
events that are over, live, or still to come. `generate(out_dir, scale, seed)` writes Parquet files into
`out_dir` and returns {file name: rows}; `scale` multiplies the regions, and with them members, devices,
events and every log.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.demo_data import write_parquet

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SECOND = 1_000_000  # times are int64 microseconds since 1970-01-01 (UTC) until they are written
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_748_779_200 * SECOND  # 2025-06-01 12:00:00, the demo clock

# Sizes at scale 1: four regions (tens to a couple of hundred thousand rows in all).
REGIONS_AT_SCALE_1 = 4
MEMBERS_PER_REGION = 2_500
TITLES = 600
EVENTS_PER_REGION = 16
EVENT_SPAN = (-3 * DAY, 3 * DAY)  # event starts, relative to NOW
VIEWS_PER_MEMBER = 14
VIEWING_HISTORY = 35 * DAY
PREFETCH_HISTORY = DAY  # prefetch rows for events starting at most this long before NOW

# The ranking rule shared with the models (vars live_events_top_n and live_events_viewing_window_days).
TOP_N = 10
VIEWING_WINDOW = 28 * DAY


REGION_CODES = (
    "us",
    "gb",
    "br",
    "jp",
    "de",
    "in",
    "mx",
    "fr",
    "kr",
    "au",
    "ca",
    "es",
    "it",
    "nl",
    "se",
    "pl",
)
GENRES = ("sports", "drama", "family", "comedy", "music", "documentary", "action", "reality")
# Taste segments of every region: (archetype, favourite genre, share of the region's members).
SEGMENT_ARCHETYPES = (
    ("sports_fans", "sports", 0.18),
    ("drama_bingers", "drama", 0.16),
    ("family_viewers", "family", 0.14),
    ("comedy_lovers", "comedy", 0.12),
    ("music_fans", "music", 0.10),
    ("documentary_buffs", "documentary", 0.10),
    ("action_seekers", "action", 0.10),
    ("reality_watchers", "reality", 0.10),
)
FAVOURITE_GENRE_WEIGHT = 6.0
# Device cohorts: (id, platform, prefetch lead minutes, close minutes before start, cache grace minutes,
# max expiry jitter seconds, share of devices, probability of being connected at a broadcast).
DEVICE_COHORTS = (
    ("tv_current", "tv", 1440, 5, 30, 1800, 0.26, 0.80),
    ("tv_legacy", "tv", 720, 10, 30, 1800, 0.12, 0.70),
    ("mobile_ios", "mobile", 240, 2, 15, 900, 0.18, 0.45),
    ("mobile_android", "mobile", 240, 2, 15, 900, 0.20, 0.40),
    ("tablet", "tablet", 360, 5, 20, 1200, 0.08, 0.35),
    ("web", "web", 90, 1, 10, 600, 0.11, 0.30),
    ("console", "console", 720, 5, 30, 1800, 0.05, 0.60),
)
# Live events: genre -> (share, name stems, duration range in minutes).
EVENT_KINDS = {
    "sports": (
        0.55,
        ("Title Fight", "Cup Final", "Derby Night", "Grand Prix", "Championship Match"),
        (120, 180),
    ),
    "music": (0.15, ("Live in Concert", "Festival Main Stage", "Album Release Show"), (90, 150)),
    "comedy": (0.15, ("Stand-up Live", "Roast Night", "Improv Special"), (60, 90)),
    "reality": (0.15, ("Live Finale", "Reunion Live", "Live Elimination"), (60, 120)),
}
VENUES = ("Arena", "Stadium", "Hall", "Theatre", "Studio", "Dome", "Park", "Pavilion")
MATURITY_RATINGS = ("G", "PG", "PG-13", "TV-14", "TV-MA", "R")
IMAGE_SIZES = {"boxart": (342, 513), "hero": (1920, 1080), "logo": (600, 200)}
# Schedule changes.
DELAY_SHARE, SECOND_DELAY_SHARE, CANCEL_SHARE, EARLY_END_SHARE, OVERRUN_SHARE = 0.3, 0.5, 0.08, 0.1, 0.1
LATE_CHANGE_SHARE, DUPLICATE_CHANGE_SHARE = 0.10, 0.10
REASONS = {
    "delay": ("weather", "technical issue", "previous event overran", "venue security"),
    "cancel": ("weather", "safety", "rights dispute"),
    "early_end": ("stoppage", "knockout", "weather"),
    "overrun": ("extra time", "encore", "overtime"),
}
# Devices and logs.
EXTRA_DEVICES_PER_MEMBER = 0.6
RETIRED_DEVICE_SHARE, NEW_DEVICE_SHARE = 0.03, 0.02
PREFETCH_ONLINE_SHARE, PREFETCH_REFRESH_SHARE, DUPLICATE_PREFETCH_SHARE = 0.9, 0.3, 0.02
REPEAT_DELIVERY_SHARE, DUPLICATE_ACK_SHARE = 0.03, 0.01

_ADJECTIVES = [
    "Silent",
    "Broken",
    "Golden",
    "Hidden",
    "Last",
    "Wild",
    "Electric",
    "Crimson",
    "Lost",
    "Northern",
    "Midnight",
    "Iron",
    "Paper",
    "Glass",
    "Velvet",
    "Burning",
    "Frozen",
    "Secret",
    "Distant",
    "Savage",
    "Little",
    "Final",
    "Lucky",
    "Hollow",
    "Brave",
]
_NOUNS = [
    "Harbor",
    "Empire",
    "Kingdom",
    "Signal",
    "Garden",
    "Frontier",
    "Orchard",
    "River",
    "Machine",
    "Crown",
    "Engine",
    "Mirror",
    "Station",
    "Island",
    "Horizon",
    "Circus",
    "Canyon",
    "Lantern",
    "Ledger",
    "Compass",
    "Voyage",
    "Summit",
    "Archive",
    "Outpost",
    "Meridian",
]
_PLACES = [
    "Lisbon",
    "Osaka",
    "Lagos",
    "Denver",
    "Oslo",
    "Lima",
    "Seoul",
    "Cairo",
    "Perth",
    "Quebec",
    "Naples",
    "Austin",
]


def _timestamps(microseconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    import pyarrow as pa

    return pa.array(microseconds.astype("int64"), type=pa.int64(), mask=null).cast(pa.timestamp("us"))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def trigger_idempotency_key(event_id: int, to_state: str, trigger_at: int) -> str:
    """The key of one broadcast trigger, as `fct_live_event_broadcast_triggers` computes it."""
    return _md5(f"{event_id}|{to_state}|{trigger_at // SECOND}")


def _regions(scale: float) -> tuple[list[str], int]:
    """The regions and members per region: whole regions from scale 0.25, smaller ones below it (tests)."""
    count = max(1, math.ceil(REGIONS_AT_SCALE_1 * scale))
    members_per_region = round(MEMBERS_PER_REGION * min(1.0, REGIONS_AT_SCALE_1 * scale / count))
    names = [
        REGION_CODES[i % len(REGION_CODES)] + (str(i // len(REGION_CODES)) if i >= len(REGION_CODES) else "")
        for i in range(count)
    ]
    return names, members_per_region


@dataclass
class _Catalog:
    title_id: np.ndarray
    genre_index: np.ndarray
    available_from: np.ndarray
    available_until: np.ndarray  # -1 where the title stays available
    payload_rows: list[str]  # each title's canonical payload fields, as the models join them


@dataclass
class _Viewing:
    segment_index: np.ndarray  # of the viewing member
    title_index: np.ndarray
    started_at: np.ndarray
    watched_minutes: np.ndarray


class _PayloadRanking:
    """The models' recommendation rule, in numpy, to stamp the prefetch log with the versions it serves.

    Mirrors `int_live_event_segment_title_scores` and `fct_live_event_recommendations`: over the
    `VIEWING_WINDOW` days before the day of evaluation, rank the titles of the event's genre that are
    available, by the segment's minutes watched, then all members' minutes, then title id; keep the top
    `TOP_N`; the version is the md5 of "event_id|event_name" and the ranked rows, joined by ";".
    """

    def __init__(self, catalog: _Catalog, viewing: _Viewing, segment_count: int) -> None:
        self.catalog = catalog
        self.viewing = viewing
        self.segment_count = segment_count
        self._ranked: dict[tuple[int, int], dict[int, list[int]]] = {}

    def _rankings(self, day_start: int, genre_index: int) -> dict[int, list[int]]:
        import numpy as np

        key = (day_start, genre_index)
        if key in self._ranked:
            return self._ranked[key]
        catalog, viewing = self.catalog, self.viewing
        titles = len(catalog.title_id)
        in_window = (viewing.started_at >= day_start - VIEWING_WINDOW) & (viewing.started_at < day_start)
        minutes = viewing.watched_minutes[in_window]
        everyone = np.bincount(viewing.title_index[in_window], weights=minutes, minlength=titles)
        per_segment = np.bincount(
            viewing.segment_index[in_window] * titles + viewing.title_index[in_window],
            weights=minutes,
            minlength=self.segment_count * titles,
        ).reshape(self.segment_count, titles)
        candidates = np.flatnonzero(
            (catalog.genre_index == genre_index)
            & (catalog.available_from <= day_start)
            & ((catalog.available_until < 0) | (catalog.available_until > day_start))
        )
        ranked = {}
        for segment in range(self.segment_count):
            order = np.lexsort(
                (catalog.title_id[candidates], -everyone[candidates], -per_segment[segment, candidates])
            )
            ranked[segment] = [int(t) for t in candidates[order[:TOP_N]]]
        self._ranked[key] = ranked
        return ranked

    def version(self, at: int, segment: int, event_id: int, event_name: str, genre_index: int) -> str:
        day_start = at - at % DAY
        titles = self._rankings(day_start, genre_index)[segment]
        rows = [f"{rank}|{self.catalog.payload_rows[t]}" for rank, t in enumerate(titles, start=1)]
        return _md5(";".join([f"{event_id}|{event_name}", *rows]))


def _catalog(rng: np.random.Generator) -> tuple[_Catalog, pa.Table, pa.Table]:
    import numpy as np
    import pyarrow as pa

    title_id = np.arange(10_001, 10_001 + TITLES, dtype=np.int64)
    genre_index = rng.integers(0, len(GENRES), TITLES)
    adjectives = rng.integers(0, len(_ADJECTIVES), TITLES)
    nouns = rng.integers(0, len(_NOUNS), TITLES)
    places = rng.integers(0, len(_PLACES), TITLES)
    names = [f"The {_ADJECTIVES[a]} {_NOUNS[n]}" for a, n in zip(adjectives, nouns, strict=True)]
    synopses = [
        f"A {GENRES[g]} story of the {_NOUNS[n].lower()} that changed {_PLACES[p]}."
        for g, n, p in zip(genre_index, nouns, places, strict=True)
    ]
    ratings = rng.integers(0, len(MATURITY_RATINGS), TITLES)
    release_year = rng.integers(1985, 2026, TITLES)
    runtime = np.where(rng.random(TITLES) < 0.4, rng.integers(22, 60, TITLES), rng.integers(80, 170, TITLES))
    # Availability changes at midnight: a few titles arrive in the coming days, a few have left the catalog.
    midnight = NOW - NOW % DAY
    available_from = midnight - rng.integers(1, 900, TITLES) * DAY
    arriving = rng.random(TITLES) < 0.03
    available_from[arriving] = midnight + rng.integers(-2, 4, int(arriving.sum())) * DAY
    available_until = np.full(TITLES, -1, dtype=np.int64)
    leaving = rng.random(TITLES) < 0.05
    available_until[leaving] = midnight + rng.integers(-20, 20, int(leaving.sum())) * DAY

    artwork_rows: dict[str, list[Any]] = {k: [] for k in ("title_id", "image_type", "url", "width", "height")}
    has_image = {
        "boxart": np.ones(TITLES, dtype=bool),
        "hero": rng.random(TITLES) < 0.8,
        "logo": rng.random(TITLES) < 0.5,
    }
    urls: dict[tuple[int, str], str] = {}
    for image_type, present in has_image.items():
        width, height = IMAGE_SIZES[image_type]
        for index in np.flatnonzero(present):
            checksum = rng.bytes(6).hex()
            url = f"https://art.overclock.example/{title_id[index]}/{image_type}/{checksum}.jpg"
            urls[(int(index), image_type)] = url
            artwork_rows["title_id"].append(int(title_id[index]))
            artwork_rows["image_type"].append(image_type)
            artwork_rows["url"].append(url)
            artwork_rows["width"].append(width)
            artwork_rows["height"].append(height)
    artwork_count = len(artwork_rows["title_id"])
    artwork = pa.table(
        {
            "artwork_id": pa.array(np.arange(1, artwork_count + 1), type=pa.int64()),
            "title_id": pa.array(artwork_rows["title_id"], type=pa.int64()),
            "image_type": pa.array(artwork_rows["image_type"]),
            "url": pa.array(artwork_rows["url"]),
            "width": pa.array(artwork_rows["width"], type=pa.int32()),
            "height": pa.array(artwork_rows["height"], type=pa.int32()),
            "updated_at": _timestamps(
                NOW - rng.integers(1, 400, artwork_count) * DAY - rng.integers(0, DAY, artwork_count)
            ),
        }
    )
    titles = pa.table(
        {
            "title_id": pa.array(title_id),
            "title_name": pa.array(names),
            "genre": pa.array([GENRES[g] for g in genre_index]),
            "maturity_rating": pa.array([MATURITY_RATINGS[r] for r in ratings]),
            "release_year": pa.array(release_year, type=pa.int32()),
            "runtime_minutes": pa.array(runtime, type=pa.int32()),
            "synopsis": pa.array(synopses),
            "available_from": _timestamps(available_from),
            "available_until": _timestamps(available_until, null=available_until < 0),
        }
    )
    payload_rows = [
        "|".join(
            [
                str(title_id[i]),
                names[i],
                GENRES[genre_index[i]],
                MATURITY_RATINGS[ratings[i]],
                str(release_year[i]),
                str(runtime[i]),
                synopses[i],
                urls[(i, "boxart")],
                urls.get((i, "hero"), ""),
            ]
        )
        for i in range(TITLES)
    ]
    catalog = _Catalog(title_id, genre_index, available_from, available_until, payload_rows)
    return catalog, titles, artwork


@dataclass
class _Event:
    event_id: int
    name: str
    genre_index: int
    region_index: int
    start: int  # effective schedule after every change that reached us by NOW
    end: int
    cancelled_at: int  # -1 when not cancelled


def _schedule_changes(
    rng: np.random.Generator,
    event_id: int,
    start: int,
    end: int,
    changes: list[dict[str, Any]],
    just_delayed: bool = False,
) -> tuple[int, int, int]:
    """Draw one event's schedule changes (appended to `changes`); returns its effective start, end, cancel.

    `just_delayed` makes it an event delayed within the last hour, whose moved triggers are still pending.
    """

    def publish(
        kind: str, changed_at: int, affects: int, new_start: int = -1, new_end: int = -1, arrives: int = -1
    ) -> None:
        changed_at -= changed_at % SECOND
        received_at = changed_at + int(rng.integers(1, 30)) * SECOND
        if arrives > received_at and arrives < affects - MINUTE:
            received_at = arrives - arrives % SECOND
        elif rng.random() < LATE_CHANGE_SHARE:
            # Late, but never after the moment it moves: that would be a broadcast of the wrong schedule.
            late = changed_at + int(rng.integers(5, 90)) * MINUTE
            received_at = late if late < affects - MINUTE else received_at
        if changed_at > NOW or received_at > NOW:
            return  # not decided yet, or still in flight
        reason = REASONS[kind][int(rng.integers(0, len(REASONS[kind])))]
        changes.append(
            {
                "event_id": event_id,
                "change_type": kind,
                "new_start_at": new_start,
                "new_end_at": new_end,
                "reason": reason,
                "changed_at": changed_at,
                "received_at": received_at,
            }
        )

    def applied() -> tuple[int, int, int]:
        mine = sorted((c for c in changes if c["event_id"] == event_id), key=lambda c: c["changed_at"])
        effective_start, effective_end, cancelled_at = start, end, -1
        for change in mine:
            if change["new_start_at"] >= 0:
                effective_start = change["new_start_at"]
            if change["new_end_at"] >= 0:
                effective_end = change["new_end_at"]
            if change["change_type"] == "cancel" and cancelled_at < 0:
                cancelled_at = change["changed_at"]
        return effective_start, effective_end, cancelled_at

    if just_delayed or rng.random() < DELAY_SHARE:
        delay = int(rng.integers(1, 13)) * 5 * MINUTE
        decided = start - int(rng.integers(10 * MINUTE, 12 * HOUR))
        if just_delayed:
            decided = min(start, NOW) - int(rng.integers(5 * MINUTE, HOUR))
        if rng.random() < SECOND_DELAY_SHARE:
            # A second, longer delay; mostly, the first one reaches us only after it (out of order).
            more = delay + int(rng.integers(1, 7)) * 5 * MINUTE
            decided_again = decided + int(rng.integers(MINUTE, (start - decided) // 2))
            arrives = decided_again + 2 * MINUTE if rng.random() < 0.7 else -1
            publish("delay", decided, start, start + delay, end + delay, arrives=arrives)
            publish("delay", decided_again, start, start + more, end + more)
        else:
            publish("delay", decided, start, start + delay, end + delay)
    if rng.random() < CANCEL_SHARE:
        publish("cancel", start - int(rng.integers(30 * MINUTE, 36 * HOUR)), start)
    effective_start, effective_end, cancelled_at = applied()
    if cancelled_at < 0:
        draw = rng.random()
        duration = effective_end - effective_start
        if draw < EARLY_END_SHARE:
            decided = effective_start + int(duration * rng.uniform(0.3, 0.8))
            new_end = decided + int(rng.integers(5, 21)) * MINUTE
            new_end -= new_end % MINUTE
            publish("early_end", decided, new_end, new_end=new_end)
        elif draw < EARLY_END_SHARE + OVERRUN_SHARE:
            decided = effective_end - int(rng.integers(5, 21)) * MINUTE
            publish(
                "overrun",
                decided,
                effective_end,
                new_end=effective_end + int(rng.integers(2, 10)) * 5 * MINUTE,
            )
    return applied()


def _events(rng: np.random.Generator, regions: list[str]) -> tuple[list[_Event], pa.Table, pa.Table]:
    import numpy as np
    import pyarrow as pa

    genres = list(EVENT_KINDS)
    shares = np.array([EVENT_KINDS[g][0] for g in genres])
    count = len(regions) * EVENTS_PER_REGION
    region_index = np.repeat(np.arange(len(regions)), EVENTS_PER_REGION)
    kind = rng.choice(len(genres), count, p=shares / shares.sum())
    start = (
        NOW + rng.integers(EVENT_SPAN[0] // (5 * MINUTE), EVENT_SPAN[1] // (5 * MINUTE), count) * 5 * MINUTE
    )
    order = np.lexsort((region_index, start))
    region_index, kind, start = region_index[order], kind[order], start[order]

    events: list[_Event] = []
    changes: list[dict[str, Any]] = []
    registry: dict[str, list[Any]] = {
        k: [] for k in ("event_id", "event_name", "genre", "region", "venue", "start", "end", "announced_at")
    }
    # The first coming event of every region has just been delayed, so that the demo shows moved triggers.
    first_coming: dict[int, int] = {}
    for coming in np.flatnonzero(start > NOW + HOUR).tolist():
        first_coming.setdefault(int(region_index[coming]), coming)
    for i in range(count):
        genre = genres[kind[i]]
        _, stems, (shortest, longest) = EVENT_KINDS[genre]
        event_id = 1_001 + i
        region = regions[region_index[i]]
        name = f"{stems[int(rng.integers(0, len(stems)))]} {region.upper()} #{i + 1}"
        end = int(start[i]) + int(rng.integers(shortest // 5, longest // 5 + 1)) * 5 * MINUTE
        effective_start, effective_end, cancelled_at = _schedule_changes(
            rng,
            event_id,
            int(start[i]),
            end,
            changes,
            just_delayed=first_coming.get(int(region_index[i])) == i,
        )
        events.append(
            _Event(
                event_id,
                name,
                GENRES.index(genre),
                int(region_index[i]),
                effective_start,
                effective_end,
                cancelled_at,
            )
        )
        registry["event_id"].append(event_id)
        registry["event_name"].append(name)
        registry["genre"].append(genre)
        registry["region"].append(region)
        registry["venue"].append(
            f"{_PLACES[int(rng.integers(0, len(_PLACES)))]} {VENUES[int(rng.integers(0, len(VENUES)))]}"
        )
        registry["start"].append(int(start[i]))
        registry["end"].append(end)
        registry["announced_at"].append(
            int(start[i]) - int(rng.integers(3 * DAY, 21 * DAY)) // SECOND * SECOND
        )

    live_events = pa.table(
        {
            "event_id": pa.array(registry["event_id"], type=pa.int64()),
            "event_name": pa.array(registry["event_name"]),
            "genre": pa.array(registry["genre"]),
            "region": pa.array(registry["region"]),
            "venue": pa.array(registry["venue"]),
            "scheduled_start_at": _timestamps(np.array(registry["start"])),
            "scheduled_end_at": _timestamps(np.array(registry["end"])),
            "announced_at": _timestamps(np.array(registry["announced_at"])),
        }
    )

    # Ids in the order the changes were decided; at-least-once delivery: a few arrive twice. The log is in
    # arrival order.
    changes.sort(key=lambda c: (c["changed_at"], c["event_id"]))
    for change_id, change in enumerate(changes, start=1):
        change["change_id"] = change_id
    redelivered = [
        {**c, "received_at": c["received_at"] + int(rng.integers(1, 40)) * MINUTE}
        for c in changes
        if rng.random() < DUPLICATE_CHANGE_SHARE
    ]
    rows = sorted(
        changes + [c for c in redelivered if c["received_at"] <= NOW],
        key=lambda c: (c["received_at"], c["change_id"]),
    )
    new_start = np.array([c["new_start_at"] for c in rows], dtype=np.int64)
    new_end = np.array([c["new_end_at"] for c in rows], dtype=np.int64)
    schedule_changes = pa.table(
        {
            "change_id": pa.array([c["change_id"] for c in rows], type=pa.int64()),
            "event_id": pa.array([c["event_id"] for c in rows], type=pa.int64()),
            "change_type": pa.array([c["change_type"] for c in rows]),
            "new_start_at": _timestamps(new_start, null=new_start < 0),
            "new_end_at": _timestamps(new_end, null=new_end < 0),
            "reason": pa.array([c["reason"] for c in rows]),
            "changed_at": _timestamps(np.array([c["changed_at"] for c in rows], dtype=np.int64)),
            "received_at": _timestamps(np.array([c["received_at"] for c in rows], dtype=np.int64)),
        }
    )
    return events, live_events, schedule_changes


@dataclass
class _Audience:
    member_id: np.ndarray
    member_segment: np.ndarray  # segment index of each member
    device_id: np.ndarray
    device_member: np.ndarray  # member index of each device
    device_cohort: np.ndarray  # cohort index of each device
    registered_at: np.ndarray
    retired_at: np.ndarray  # -1 while in use

    def device_region(self, segment_region: np.ndarray) -> np.ndarray:
        return segment_region[self.member_segment[self.device_member]]


def _segments(rng: np.random.Generator, regions: list[str]) -> tuple[np.ndarray, pa.Table]:
    import numpy as np
    import pyarrow as pa

    segment_region = np.repeat(np.arange(len(regions)), len(SEGMENT_ARCHETYPES))
    archetypes = [SEGMENT_ARCHETYPES[i % len(SEGMENT_ARCHETYPES)] for i in range(len(segment_region))]
    segments = pa.table(
        {
            "segment_id": pa.array(
                [f"{regions[r]}_{a[0]}" for r, a in zip(segment_region, archetypes, strict=True)]
            ),
            "segment_name": pa.array([a[0].replace("_", " ") for a in archetypes]),
            "region": pa.array([regions[r] for r in segment_region]),
            "favourite_genre": pa.array([a[1] for a in archetypes]),
            "created_at": _timestamps(NOW - rng.integers(400, 800, len(segment_region)) * DAY),
        }
    )
    return segment_region, segments


def _audience(
    rng: np.random.Generator, regions: list[str], members_per_region: int, segment_ids: list[str]
) -> tuple[_Audience, pa.Table, pa.Table]:
    import numpy as np
    import pyarrow as pa

    shares = np.array([a[2] for a in SEGMENT_ARCHETYPES])
    members = len(regions) * members_per_region
    member_region = np.repeat(np.arange(len(regions)), members_per_region)
    member_segment = member_region * len(SEGMENT_ARCHETYPES) + rng.choice(
        len(SEGMENT_ARCHETYPES), members, p=shares / shares.sum()
    )
    member_id = np.arange(1, members + 1, dtype=np.int64)
    member_segments = pa.table(
        {
            "member_id": pa.array(member_id),
            "segment_id": pa.array([segment_ids[s] for s in member_segment]),
            "assigned_at": _timestamps(NOW - rng.integers(40 * DAY, 400 * DAY, members) // SECOND * SECOND),
        }
    )

    per_member = np.minimum(1 + rng.poisson(EXTRA_DEVICES_PER_MEMBER, members), 4)
    device_member = np.repeat(np.arange(members), per_member)
    devices = len(device_member)
    cohort_shares = np.array([c[6] for c in DEVICE_COHORTS])
    device_cohort = rng.choice(len(DEVICE_COHORTS), devices, p=cohort_shares / cohort_shares.sum())
    registered_at = NOW - rng.integers(30 * DAY, 900 * DAY, devices) // SECOND * SECOND
    new = rng.random(devices) < NEW_DEVICE_SHARE
    registered_at[new] = NOW - rng.integers(MINUTE, 2 * DAY, int(new.sum())) // SECOND * SECOND
    retired_at = np.full(devices, -1, dtype=np.int64)
    retired = (rng.random(devices) < RETIRED_DEVICE_SHARE) & ~new
    retired_at[retired] = NOW - rng.integers(HOUR, 20 * DAY, int(retired.sum())) // SECOND * SECOND
    device_id = np.arange(500_001, 500_001 + devices, dtype=np.int64)
    device_table = pa.table(
        {
            "device_id": pa.array(device_id),
            "member_id": pa.array(member_id[device_member]),
            "device_cohort_id": pa.array([DEVICE_COHORTS[c][0] for c in device_cohort]),
            "registered_at": _timestamps(registered_at),
            "retired_at": _timestamps(retired_at, null=retired_at < 0),
        }
    )
    audience = _Audience(
        member_id, member_segment, device_id, device_member, device_cohort, registered_at, retired_at
    )
    return audience, member_segments, device_table


def _viewing(rng: np.random.Generator, audience: _Audience, catalog: _Catalog) -> tuple[_Viewing, pa.Table]:
    """Views drawn from each segment's taste: its favourite genre first, then Zipf-popular titles."""
    import numpy as np
    import pyarrow as pa

    members = len(audience.member_id)
    segments = int(audience.member_segment.max()) + 1
    views_per_member = rng.poisson(VIEWS_PER_MEMBER, members)
    member = np.repeat(np.arange(members), views_per_member)
    views = len(member)
    segment = audience.member_segment[member]
    favourite = segment % len(SEGMENT_ARCHETYPES)
    favourite_genre = np.array(
        [GENRES.index(SEGMENT_ARCHETYPES[i][1]) for i in range(len(SEGMENT_ARCHETYPES))]
    )
    genre_weights = np.ones(len(GENRES))
    favourite_share = FAVOURITE_GENRE_WEIGHT / (FAVOURITE_GENRE_WEIGHT + len(GENRES) - 1)
    genre = np.where(
        rng.random(views) < favourite_share,
        favourite_genre[favourite],
        rng.choice(len(GENRES), views, p=genre_weights / genre_weights.sum()),
    )
    # Within a genre, a title's appeal is its global popularity (Zipf) times a segment-specific taste.
    popularity = 1.0 / (1.0 + rng.permutation(len(catalog.title_id))) ** 0.9
    taste = rng.lognormal(0.0, 0.6, (segments, len(catalog.title_id)))
    title = np.empty(views, dtype=np.int64)
    for s in range(segments):
        for g in range(len(GENRES)):
            picked = np.flatnonzero((segment == s) & (genre == g))
            candidates = np.flatnonzero(catalog.genre_index == g)
            if len(picked) == 0 or len(candidates) == 0:
                continue
            weights = popularity[candidates] * taste[s, candidates]
            title[picked] = candidates[rng.choice(len(candidates), len(picked), p=weights / weights.sum())]
    started_at = (NOW - rng.integers(0, VIEWING_HISTORY, views)) // SECOND * SECOND
    watched_minutes = rng.integers(1, 151, views)
    received_at = (
        started_at + watched_minutes * MINUTE + rng.integers(0, 5 * MINUTE, views) // SECOND * SECOND
    )
    arrived = received_at <= NOW
    order = np.lexsort((member, received_at))
    order = order[arrived[order]]
    # A member watches on the first of their devices.
    first_device = np.searchsorted(audience.device_member, np.arange(members))
    table = pa.table(
        {
            "view_id": pa.array(np.arange(1, len(order) + 1, dtype=np.int64)),
            "member_id": pa.array(audience.member_id[member[order]]),
            "device_id": pa.array(audience.device_id[first_device[member[order]]]),
            "title_id": pa.array(catalog.title_id[title[order]]),
            "started_at": _timestamps(started_at[order]),
            "watched_minutes": pa.array(watched_minutes[order], type=pa.int32()),
            "received_at": _timestamps(received_at[order]),
        }
    )
    viewing = _Viewing(
        segment[order], title[order], started_at[order], watched_minutes[order].astype(np.float64)
    )
    return viewing, table


def _active(audience: _Audience, at: int) -> np.ndarray:
    return (audience.registered_at <= at) & ((audience.retired_at < 0) | (audience.retired_at > at))


def _in_arrival_order(
    rng: np.random.Generator,
    device: np.ndarray,
    received: np.ndarray,
    duplicate_share: float,
    duplicate_delay: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A device log as shipped: rows that arrived by NOW in arrival order, ids in that order, and a few rows
    delivered twice (at-least-once shipping: the same id again, a little later). Returns (row index, id,
    received_at) per log row."""
    import numpy as np

    order = np.lexsort((device, received))
    order = order[received[order] <= NOW]
    ids = np.arange(1, len(order) + 1, dtype=np.int64)
    copy = np.flatnonzero(rng.random(len(order)) < duplicate_share)
    copy_received = received[order[copy]] + rng.integers(*duplicate_delay, len(copy)) // 1000 * 1000
    copy, copy_received = copy[copy_received <= NOW], copy_received[copy_received <= NOW]
    rows = np.concatenate([order, order[copy]])
    row_ids = np.concatenate([ids, ids[copy]])
    row_received = np.concatenate([received[order], copy_received])
    final = np.lexsort((row_ids, row_received))
    return rows[final], row_ids[final], row_received[final]


def _prefetches(
    rng: np.random.Generator,
    events: list[_Event],
    audience: _Audience,
    device_region: np.ndarray,
    ranking: _PayloadRanking,
    segment_ids: list[str],
) -> pa.Table:
    """Each device fetches each coming event of its region once in its cohort's window, some twice."""
    import numpy as np
    import pyarrow as pa

    lead = np.array([c[2] for c in DEVICE_COHORTS]) * MINUTE
    close = np.array([c[3] for c in DEVICE_COHORTS]) * MINUTE
    device_segment = audience.member_segment[audience.device_member]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("device", "event", "segment", "at")}
    for position, event in enumerate(events):
        if event.start < NOW - PREFETCH_HISTORY:
            continue
        devices = np.flatnonzero((device_region == event.region_index) & _active(audience, event.start - DAY))
        opens = event.start - lead[audience.device_cohort[devices]]
        closes = event.start - close[audience.device_cohort[devices]]
        until = min(NOW, event.cancelled_at) if event.cancelled_at >= 0 else NOW
        first = opens + (rng.random(len(devices)) * (closes - opens)).astype(np.int64)
        online = rng.random(len(devices)) < PREFETCH_ONLINE_SHARE
        again = first + (rng.random(len(devices)) * (closes - first)).astype(np.int64)
        refresh = rng.random(len(devices)) < PREFETCH_REFRESH_SHARE
        for fetched_at, keep in ((first, online), (again, online & refresh)):
            keep = keep & (fetched_at <= until)
            parts["device"].append(devices[keep])
            parts["event"].append(np.full(int(keep.sum()), position))
            parts["segment"].append(device_segment[devices[keep]])
            parts["at"].append(fetched_at[keep] // SECOND * SECOND)
    device, event_index, segment, fetched = (
        np.concatenate(parts[k]) for k in ("device", "event", "segment", "at")
    )
    versions: dict[tuple[int, int, int], str] = {}
    payload_version = []
    for e, s, t in zip(event_index.tolist(), segment.tolist(), fetched.tolist(), strict=True):
        day = t - t % DAY
        if (e, s, day) not in versions:
            event = events[e]
            versions[(e, s, day)] = ranking.version(t, s, event.event_id, event.name, event.genre_index)
        payload_version.append(versions[(e, s, day)])
    received = fetched + rng.integers(0, 90 * SECOND, len(fetched)) // SECOND * SECOND
    rows, ids, received_rows = _in_arrival_order(
        rng, device, received, DUPLICATE_PREFETCH_SHARE, (MINUTE, HOUR)
    )
    return pa.table(
        {
            "prefetch_id": pa.array(ids),
            "device_id": pa.array(audience.device_id[device[rows]]),
            "event_id": pa.array(np.array([events[e].event_id for e in event_index[rows]], dtype=np.int64)),
            "segment_id": pa.array([segment_ids[s] for s in segment[rows]]),
            "payload_version": pa.array([payload_version[r] for r in rows]),
            "prefetched_at": _timestamps(fetched[rows]),
            "received_at": _timestamps(received_rows),
        }
    )


def _acks(
    rng: np.random.Generator, events: list[_Event], audience: _Audience, device_region: np.ndarray
) -> pa.Table:
    """Connected devices acknowledge every broadcast that has fired, within seconds (a long tail)."""
    import numpy as np
    import pyarrow as pa

    connected = np.array([c[7] for c in DEVICE_COHORTS])[audience.device_cohort]
    parts: dict[str, list[Any]] = {k: [] for k in ("device", "event", "state", "key", "at")}
    for event in events:
        if event.cancelled_at >= 0:
            triggers = [("cancelled", event.cancelled_at)]
        else:
            triggers = [("live", event.start), ("ended", event.end)]
        for state, trigger_at in triggers:
            if trigger_at > NOW:
                continue
            devices = np.flatnonzero(
                (device_region == event.region_index)
                & _active(audience, trigger_at)
                & (rng.random(len(device_region)) < connected)
            )
            latency = (0.3 + rng.lognormal(math.log(4.0), 1.0, len(devices))).clip(max=600.0)
            acked_at = trigger_at + (latency * SECOND).astype(np.int64) // 1000 * 1000
            # At-least-once: some devices get the message twice and acknowledge it twice.
            repeat = rng.random(len(devices)) < REPEAT_DELIVERY_SHARE
            devices = np.concatenate([devices, devices[repeat]])
            acked_at = np.concatenate(
                [
                    acked_at,
                    acked_at[repeat]
                    + rng.integers(2 * SECOND, 90 * SECOND, int(repeat.sum())) // 1000 * 1000,
                ]
            )
            parts["device"].append(devices)
            parts["event"].append(np.full(len(devices), event.event_id, dtype=np.int64))
            parts["state"] += [state] * len(devices)
            parts["key"] += [trigger_idempotency_key(event.event_id, state, trigger_at)] * len(devices)
            parts["at"].append(acked_at)
    device, event_id, acked_at = (np.concatenate(parts[k]) for k in ("device", "event", "at"))
    states, keys = np.array(parts["state"]), np.array(parts["key"])
    received = acked_at + rng.integers(0, 3 * SECOND, len(acked_at)) // 1000 * 1000
    rows, ids, received_rows = _in_arrival_order(
        rng, device, received, DUPLICATE_ACK_SHARE, (10 * SECOND, 600 * SECOND)
    )
    return pa.table(
        {
            "ack_id": pa.array(ids),
            "device_id": pa.array(audience.device_id[device[rows]]),
            "event_id": pa.array(event_id[rows]),
            "to_state": pa.array(states[rows].tolist()),
            "idempotency_key": pa.array(keys[rows].tolist()),
            "acked_at": _timestamps(acked_at[rows]),
            "received_at": _timestamps(received_rows),
        }
    )


def _device_cohorts() -> pa.Table:
    import pyarrow as pa

    columns = list(zip(*DEVICE_COHORTS, strict=True))
    return pa.table(
        {
            "device_cohort_id": pa.array(columns[0]),
            "platform": pa.array(columns[1]),
            "prefetch_lead_minutes": pa.array(columns[2], type=pa.int32()),
            "prefetch_close_minutes": pa.array(columns[3], type=pa.int32()),
            "cache_grace_minutes": pa.array(columns[4], type=pa.int32()),
            "max_expiry_jitter_seconds": pa.array(columns[5], type=pa.int32()),
        }
    )


def generate(out_dir: Path, scale: float = 1, seed: int = 0) -> dict[str, int]:
    import numpy as np

    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    regions, members_per_region = _regions(scale)
    catalog, titles, artwork = _catalog(rng)
    segment_region, segments = _segments(rng, regions)
    segment_ids = segments.column("segment_id").to_pylist()
    audience, member_segments, devices = _audience(rng, regions, members_per_region, segment_ids)
    viewing, viewing_history = _viewing(rng, audience, catalog)
    events, live_events, schedule_changes = _events(rng, regions)
    device_region = audience.device_region(segment_region)
    ranking = _PayloadRanking(catalog, viewing, len(segment_ids))
    tables = {
        "live_events.parquet": live_events,
        "schedule_changes.parquet": schedule_changes,
        "segments.parquet": segments,
        "member_segments.parquet": member_segments,
        "device_cohorts.parquet": _device_cohorts(),
        "devices.parquet": devices,
        "titles.parquet": titles,
        "artwork.parquet": artwork,
        "viewing_history.parquet": viewing_history,
        "device_prefetches.parquet": _prefetches(rng, events, audience, device_region, ranking, segment_ids),
        "broadcast_acks.parquet": _acks(rng, events, audience, device_region),
    }
    return {name: write_parquet(table, out_dir / name) for name, table in tables.items()}
