"""OpenAPI examples, kept apart from the views so a view reads as what it does."""

TRACK_RECORD_EXAMPLE = {
    "strategist": {
        "slug": "alvin-ngan",
        "name": "Alvin Ngan",
        "firm": "Zhongtai Financial International",
        "title": "",
    },
    "as_of": None,
    "summary": {
        "forecasts": 1,
        "resolved": 1,
        "hits": 1,
        "misses": 0,
        "pending": 0,
        "void": 0,
        "hit_rate": 1.0,
        "hit_rate_wilson_low": 0.2065,
        "hit_rate_wilson_high": 1.0,
        "skill_scored": 1,
        "mean_skill": 0.62,
        "mean_skill_se": None,
        "skill_points": 0.62,
        "skill_lower_bound": None,
        "mean_boldness": 0.62,
        "mean_directional_return": None,
        "mean_directional_excess_return": None,
    },
    "forecasts": ["..."],
}
