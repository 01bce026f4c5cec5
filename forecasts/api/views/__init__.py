"""The public API (reads) and the editors' API (writes, with a token), one module a resource. Views
only parse, call selectors / services and shape the answer; OpenAPI examples live in forecasts.api.examples.

- `catalog` — strategists, firms, instruments (bars, outlook), sources (recording a source);
- `forecasts` — forecasts, corrections and voids;
- `records` — track records and the leaderboard (live or as of a date);
- `auth` — tokens; `docs` — Swagger UI and the JSON 404; `common` — what they share.
"""

from forecasts.api.views.auth import LoginView, LogoutAllView, LogoutView
from forecasts.api.views.catalog import FirmViewSet, InstrumentViewSet, SourceViewSet, StrategistViewSet
from forecasts.api.views.common import published_forecasts
from forecasts.api.views.docs import SwaggerView, not_found
from forecasts.api.views.forecasts import ForecastViewSet
from forecasts.api.views.records import FirmTrackRecordView, LeaderboardView, StrategistTrackRecordView

__all__ = [
    "FirmTrackRecordView",
    "FirmViewSet",
    "ForecastViewSet",
    "InstrumentViewSet",
    "LeaderboardView",
    "LoginView",
    "LogoutAllView",
    "LogoutView",
    "SourceViewSet",
    "StrategistTrackRecordView",
    "StrategistViewSet",
    "SwaggerView",
    "not_found",
    "published_forecasts",
]
