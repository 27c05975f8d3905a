"""Seeded raw data for the search-indexing domain: guilds, channels, message events, search activity.

The shapes follow Discord's write-up on indexing messages in Elasticsearch:
- guild sizes are Zipf-like, so a few "big guilds" hold a large share of all messages (the ones that need a
  dedicated index with several primary shards);
- every id is a snowflake: milliseconds since 2015-01-01 in the top 42 bits, a sequence in the low 22, so a
  message's (and an event's) time can be read from its id;
- message events (create / edit / delete) arrive at least once and not in order: each row carries the time it
  was delivered (`ingested_at`), a few percent arrive hours late and about 2% are delivered twice;
- indexing is lazy: only guilds that someone searches (or that operations ask to reindex) are fed, so the
  search activity and the reindex requests are sources too;
- the cluster layout (cells of clusters, which serve guild or DM indices) is data, not code.

`generate(out_dir, scale, seed)` writes Parquet files into `out_dir` and returns {file name: rows}. The same
(scale, seed) gives byte-identical files; `scale` multiplies guilds, channels, users and messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.demo_data import write_parquet

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z
SEQUENCE_BITS = 22
SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

# The window the messages span: 2025-01-01 .. 2025-04-01 (90 days).
START_MS = 1_735_689_600_000
DAYS = 90
DAY_MS = 86_400_000
END_MS = START_MS + DAYS * DAY_MS

# Sizes at scale 1 (tens of thousands of rows: the whole domain generates and builds in seconds).
GUILDS = 1_200
USERS = 15_000
DM_CHANNELS = 2_500
MESSAGES = 80_000
DM_SHARE = 0.15
GUILD_SIZE_EXPONENT = 1.1  # Zipf exponent of messages per guild: the top guild holds ~15% of guild messages
EDITED_SHARE = 0.12
DELETED_SHARE = 0.06
LATE_SHARE = 0.03  # delivered minutes to a day and a half late
DUPLICATE_SHARE = 0.02  # delivered twice (at-least-once queue)
SEARCHED_GUILD_SHARE = 0.35
REINDEX_REQUESTS = 15

# Cells of Elasticsearch clusters: each cell has clusters for guild indices and one for DM indices.
CELLS = ("cell-a", "cell-b", "cell-c")
GUILD_CLUSTERS_PER_CELL = 3


_COMMON_WORDS = [
    "the",
    "a",
    "to",
    "and",
    "i",
    "you",
    "it",
    "is",
    "that",
    "of",
    "in",
    "for",
    "on",
    "this",
    "my",
    "we",
    "are",
    "just",
    "be",
    "have",
    "so",
    "me",
    "with",
    "not",
    "what",
    "was",
    "do",
    "can",
    "get",
    "like",
    "no",
    "yes",
    "lol",
    "ok",
    "all",
    "will",
    "if",
    "at",
    "but",
    "up",
    "your",
    "they",
    "when",
    "one",
    "out",
    "know",
    "how",
    "good",
    "now",
    "time",
    "game",
    "play",
    "server",
    "channel",
    "voice",
    "link",
    "patch",
    "update",
    "build",
    "bug",
    "fix",
    "raid",
    "team",
    "match",
    "stream",
    "music",
    "tonight",
    "tomorrow",
    "today",
    "thanks",
    "please",
    "anyone",
    "help",
    "here",
    "there",
    "new",
    "old",
    "first",
    "last",
    "more",
    "gg",
    "wp",
    "brb",
    "afk",
]
# Multi-byte words, so that document sizes in bytes differ from sizes in characters.
_UNICODE_WORDS = ("café", "naïve", "über", "日本", "привет", "🙂", "🎮", "🔥", "señor", "façade")


def snowflake(milliseconds: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Snowflake ids: ms since the Discord epoch in the top 42 bits, a sequence number in the low 22."""
    import numpy as np

    return ((milliseconds.astype(np.int64) - DISCORD_EPOCH_MS) << SEQUENCE_BITS) | (
        sequence.astype(np.int64) & SEQUENCE_MASK
    )


def snowflake_milliseconds(ids: np.ndarray) -> np.ndarray:
    import numpy as np

    return (ids.astype(np.int64) >> SEQUENCE_BITS) + DISCORD_EPOCH_MS


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    """Common words, a few multi-byte ones, then pseudo-words made of syllables (a long Zipf tail)."""
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words: list[str] = list(_COMMON_WORDS) + list(_UNICODE_WORDS)
    seen = set(words)
    while len(words) < size:
        parts = rng.integers(0, len(syllables), size=int(rng.integers(2, 5)))
        word = "".join(syllables[int(p)] for p in parts)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _texts(rng: np.random.Generator, vocabulary: list[str], authors: np.ndarray) -> list[str]:
    """Message texts: Zipf-distributed words; ~3% carry a token private to the author (a handle)."""
    import numpy as np

    count = len(authors)
    ranks = np.arange(1, len(vocabulary) + 1, dtype=np.float64)
    weights = 1.0 / ranks**1.05
    weights /= weights.sum()
    lengths = 1 + rng.poisson(7, size=count)
    word_ids = rng.choice(len(vocabulary), size=int(lengths.sum()), p=weights)
    words = [vocabulary[int(i)] for i in word_ids]
    private = rng.random(count) < 0.03
    ends = np.cumsum(lengths)
    starts = ends - lengths
    texts = []
    for index in range(count):
        text = " ".join(words[starts[index] : ends[index]])
        if private[index]:
            text = f"{text} handle{int(authors[index]) % 1_000_003:x}"
        texts.append(text)
    return texts


def _nullable_int(values: np.ndarray, null: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, type=pa.int64(), mask=null)


def _timestamps(milliseconds: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(milliseconds.astype("datetime64[ms]"), type=pa.timestamp("ms"))


def generate(out_dir: Path, scale: int = 1, seed: int = 0) -> dict[str, int]:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}

    # --- clusters (configuration as data) ---------------------------------------------------------------
    cluster_rows: dict[str, list[Any]] = {"cluster_name": [], "cell_name": [], "serves": []}
    for cell in CELLS:
        letter = cell.rsplit("-", 1)[-1]
        for number in range(1, GUILD_CLUSTERS_PER_CELL + 1):
            cluster_rows["cluster_name"].append(f"es-{letter}-guilds-{number}")
            cluster_rows["cell_name"].append(cell)
            cluster_rows["serves"].append("guilds")
        cluster_rows["cluster_name"].append(f"es-{letter}-dms-1")
        cluster_rows["cell_name"].append(cell)
        cluster_rows["serves"].append("dms")
    written["index_clusters.parquet"] = write_parquet(
        pa.table(cluster_rows), out_dir / "index_clusters.parquet"
    )

    # --- users and guilds -------------------------------------------------------------------------------
    users = USERS * scale
    user_created = rng.integers(DISCORD_EPOCH_MS + 30 * DAY_MS, START_MS - DAY_MS, size=users)
    user_ids = snowflake(np.sort(user_created), np.arange(users))
    guilds = GUILDS * scale
    guild_created = np.sort(rng.integers(DISCORD_EPOCH_MS + 60 * DAY_MS, START_MS - 10 * DAY_MS, size=guilds))
    guild_ids = snowflake(guild_created, np.arange(guilds))
    # Zipf-like sizes, assigned to guilds in random order (the biggest guild is not the oldest).
    size_rank = rng.permutation(guilds) + 1
    guild_weight = 1.0 / size_rank.astype(np.float64) ** GUILD_SIZE_EXPONENT
    guild_weight /= guild_weight.sum()
    guild_owner = user_ids[rng.integers(0, users, size=guilds)]
    written["guilds.parquet"] = write_parquet(
        pa.table(
            {
                "guild_id": pa.array(guild_ids, type=pa.int64()),
                "guild_name": [f"guild {i:05d}" for i in range(guilds)],
                "owner_id": pa.array(guild_owner, type=pa.int64()),
                "preferred_locale": rng.choice(["en-US", "en-GB", "de", "fr", "ja", "pt-BR"], size=guilds),
            }
        ),
        out_dir / "guilds.parquet",
    )

    # --- channels: guild channels (more in bigger guilds) and DM channels (no guild) ---------------------
    expected_messages = guild_weight * MESSAGES * scale * (1 - DM_SHARE)
    channels_per_guild = 1 + np.minimum(40, rng.poisson(1 + np.log1p(expected_messages)))
    guild_channels = int(channels_per_guild.sum())
    channel_guild_index = np.repeat(np.arange(guilds), channels_per_guild)
    channel_offset = np.concatenate([[0], np.cumsum(channels_per_guild)[:-1]])
    dm_channels = DM_CHANNELS * scale
    channel_count = guild_channels + dm_channels
    channel_created = np.concatenate(
        [
            guild_created[channel_guild_index] + rng.integers(0, 30 * DAY_MS, size=guild_channels),
            rng.integers(DISCORD_EPOCH_MS + 90 * DAY_MS, START_MS - DAY_MS, size=dm_channels),
        ]
    )
    channel_ids = snowflake(channel_created, np.arange(channel_count))
    channel_guild = np.concatenate([guild_ids[channel_guild_index], np.zeros(dm_channels, dtype=np.int64)])
    channel_is_dm = np.concatenate([np.zeros(guild_channels, bool), np.ones(dm_channels, bool)])
    guild_channel_type = rng.choice(
        ["text", "announcement", "forum_thread"], p=[0.85, 0.05, 0.10], size=guild_channels
    )
    dm_channel_type = rng.choice(["dm", "group_dm"], p=[0.85, 0.15], size=dm_channels)
    position_in_guild = np.arange(guild_channels) - channel_offset[channel_guild_index]
    written["channels.parquet"] = write_parquet(
        pa.table(
            {
                "channel_id": pa.array(channel_ids, type=pa.int64()),
                "guild_id": _nullable_int(channel_guild, channel_is_dm),
                "channel_type": np.concatenate([guild_channel_type, dm_channel_type]),
                "channel_name": [f"channel-{p}" for p in position_in_guild] + [None] * dm_channels,
            }
        ),
        out_dir / "channels.parquet",
    )

    # --- messages ---------------------------------------------------------------------------------------
    messages = MESSAGES * scale
    is_dm = rng.random(messages) < DM_SHARE
    message_guild_index = rng.choice(guilds, size=messages, p=guild_weight)
    channel_in_guild = (rng.random(messages) * channels_per_guild[message_guild_index]).astype(np.int64)
    message_channel_index = np.where(
        is_dm,
        guild_channels + rng.integers(0, dm_channels, size=messages),
        channel_offset[message_guild_index] + channel_in_guild,
    )
    author_weight = 1.0 / np.arange(1, users + 1, dtype=np.float64) ** 0.9
    author_weight /= author_weight.sum()
    message_author = user_ids[rng.permutation(users)[rng.choice(users, size=messages, p=author_weight)]]
    created_ms = np.sort(rng.integers(START_MS, END_MS - DAY_MS, size=messages))
    message_ids = snowflake(created_ms, np.arange(messages))
    message_channel = channel_ids[message_channel_index]
    message_guild = channel_guild[message_channel_index]

    # --- events: one create per message, edits for some, a delete for a few ------------------------------
    edited = np.flatnonzero(rng.random(messages) < EDITED_SHARE)
    edits_per_message = rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1], size=len(edited))
    edit_message = np.repeat(edited, edits_per_message)
    edit_gap = rng.exponential(20 * 60_000, size=len(edit_message)).astype(np.int64)
    edit_gap[rng.random(len(edit_gap)) < 0.01] = 0  # same-millisecond edits: the event id breaks the tie
    # Cumulative gaps within each message: the k-th edit follows the (k-1)-th.
    first_of_group = np.concatenate([[True], edit_message[1:] != edit_message[:-1]])
    group_start = np.flatnonzero(first_of_group)
    cumulative = np.cumsum(edit_gap)
    offsets = cumulative - np.repeat(
        cumulative[group_start] - edit_gap[group_start], np.diff(np.append(group_start, len(edit_gap)))
    )
    edit_ms = created_ms[edit_message] + 1 + offsets
    last_ms = created_ms.copy()
    np.maximum.at(last_ms, edit_message, edit_ms)
    deleted = np.flatnonzero(rng.random(messages) < DELETED_SHARE)
    delete_gap = rng.exponential(3 * 3_600_000, size=len(deleted)).astype(np.int64)
    delete_gap[rng.random(len(deleted)) < 0.01] = 0
    delete_ms = last_ms[deleted] + delete_gap

    event_message = np.concatenate([np.arange(messages), edit_message, deleted])
    event_ms = np.concatenate([created_ms, edit_ms, delete_ms])
    event_type = np.concatenate(
        [
            np.full(messages, "create", dtype=object),
            np.full(len(edit_message), "edit", dtype=object),
            np.full(len(deleted), "delete", dtype=object),
        ]
    )
    events = len(event_message)
    # Event ids: snowflakes of the event time; the sequence follows generation order, so at equal
    # milliseconds a later edit or delete gets the larger id.
    event_ids = snowflake(event_ms, np.arange(events))
    vocabulary = _vocabulary(rng, 4_000)
    content_authors = message_author[event_message[: messages + len(edit_message)]]
    texts = _texts(rng, vocabulary, content_authors)
    content = texts + [None] * len(deleted)

    # --- deliveries: mostly within a second; a few late (out of order); some twice -----------------------
    delay = rng.lognormal(np.log(300), 1.0, size=events).astype(np.int64)
    late = rng.random(events) < LATE_SHARE
    delay[late] += rng.integers(5 * 60_000, 36 * 3_600_000, size=int(late.sum()))
    duplicated = np.flatnonzero(rng.random(events) < DUPLICATE_SHARE)
    delivery_event = np.concatenate([np.arange(events), duplicated])
    delivery_ms = np.concatenate(
        [
            event_ms + delay,
            event_ms[duplicated]
            + delay[duplicated]
            + rng.integers(1_000, 6 * 3_600_000, size=len(duplicated)),
        ]
    )
    order = np.lexsort((event_ids[delivery_event], delivery_ms))  # the log is in delivery order
    delivery_event = delivery_event[order]
    delivery_ms = delivery_ms[order]
    delivered_message = event_message[delivery_event]
    delivered_guild = message_guild[delivered_message]
    delivered_is_dm = is_dm[delivered_message]
    written["message_events.parquet"] = write_parquet(
        pa.table(
            {
                "event_id": pa.array(event_ids[delivery_event], type=pa.int64()),
                "message_id": pa.array(message_ids[delivered_message], type=pa.int64()),
                "guild_id": _nullable_int(delivered_guild, delivered_is_dm),
                "channel_id": pa.array(message_channel[delivered_message], type=pa.int64()),
                "author_id": pa.array(message_author[delivered_message], type=pa.int64()),
                "event_type": pa.array(event_type[delivery_event], type=pa.string()),
                "content": pa.array([content[int(i)] for i in delivery_event], type=pa.string()),
                "ingested_at": _timestamps(delivery_ms),
            }
        ),
        out_dir / "message_events.parquet",
    )

    # --- search activity: a third of the guilds (bigger ones more likely), each from a random day on -----
    messages_per_guild = np.bincount(message_guild_index[~is_dm], minlength=guilds)
    searched_probability = np.minimum(
        0.95, SEARCHED_GUILD_SHARE + messages_per_guild / max(1, messages_per_guild.max())
    )
    searched = np.flatnonzero(rng.random(guilds) < searched_probability)
    searches_per_guild = 1 + rng.poisson(2 + np.sqrt(messages_per_guild[searched]) / 4)
    search_guild = np.repeat(searched, searches_per_guild)
    interest_start = rng.integers(START_MS, END_MS - 7 * DAY_MS, size=len(searched))
    search_start = np.repeat(interest_start, searches_per_guild)
    search_ms = search_start + (rng.random(len(search_guild)) * (END_MS - search_start)).astype(np.int64)
    order = np.lexsort((search_guild, search_ms))
    search_guild, search_ms = search_guild[order], search_ms[order]
    searches = len(search_guild)
    written["search_activity.parquet"] = write_parquet(
        pa.table(
            {
                "search_id": pa.array(snowflake(search_ms, np.arange(searches)), type=pa.int64()),
                "guild_id": pa.array(guild_ids[search_guild], type=pa.int64()),
                "user_id": pa.array(user_ids[rng.integers(0, users, size=searches)], type=pa.int64()),
                "searched_at": _timestamps(search_ms),
                "query_term_count": pa.array(1 + rng.poisson(1.5, size=searches), type=pa.int32()),
            }
        ),
        out_dir / "search_activity.parquet",
    )

    # --- explicit reindex requests by operations (some for guilds nobody searched) -----------------------
    requests = REINDEX_REQUESTS * scale
    request_guild = rng.choice(guilds, size=requests, p=np.sqrt(guild_weight) / np.sqrt(guild_weight).sum())
    request_ms = np.sort(rng.integers(START_MS + 7 * DAY_MS, END_MS, size=requests))
    written["reindex_requests.parquet"] = write_parquet(
        pa.table(
            {
                "request_id": pa.array(snowflake(request_ms, np.arange(requests)), type=pa.int64()),
                "guild_id": pa.array(guild_ids[request_guild], type=pa.int64()),
                "requested_at": _timestamps(request_ms),
                "reason": rng.choice(
                    ["mapping_change", "corruption_repair", "support_ticket"], size=requests
                ),
                "requested_by": [f"ops-{int(i)}" for i in rng.integers(1, 6, size=requests)],
            }
        ),
        out_dir / "reindex_requests.parquet",
    )
    return written
