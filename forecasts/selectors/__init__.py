"""Reads: what pages, feeds and the API show. Nothing here writes.

- `leaderboards` — summaries of track records (one SQL aggregate), filters and the ranked boards;
- `pointintime` — the same as they stood at the end of a past date, rebuilt from the history;
- `pages` — the lists and spans each public page reads;
- `outlook` — what strategists expect now for an instrument, and how such a consensus fared.
"""

from forecasts.selectors.leaderboards import (
    ForecastFilters,
    LeaderboardRow,
    Summary,
    filter_forecasts,
    filtered_leaderboard,
    leaderboard,
    rank_rows,
    summarize,
    summary_from_row,
)

__all__ = [
    "ForecastFilters",
    "LeaderboardRow",
    "Summary",
    "filter_forecasts",
    "filtered_leaderboard",
    "leaderboard",
    "rank_rows",
    "summarize",
    "summary_from_row",
]
