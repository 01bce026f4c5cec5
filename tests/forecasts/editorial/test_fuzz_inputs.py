"""Bad input from outside never crashes and never half-writes: fuzzed CSV imports.

(The API is fuzzed by schemathesis in tests/forecasts/api/test_schemathesis.py; article text by
the hypothesis tests in tests/forecasts/test_extraction.py.)
"""

import io
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasts.editorial.importers import COLUMNS, ImportFailed, import_forecasts
from forecasts.models import Forecast, Source, Strategist
from marketdata.providers.base import ProviderDataError
from marketdata.providers.offline import read_price_csv

pytestmark = pytest.mark.django_db

NASTY_CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", " ", "NaN", "inf", "-inf", "1e309", "-0", "0", "-5", "1,2,3", "23,200", "２３２００", "1e-320",
        "9" * 400, "<script>alert(1)</script>", "'; DROP TABLE forecasts_forecast; --", "=HYPERLINK(\"x\")",
        "2025-02-30", "0000-01-01", "9999-12-31", "2025-02-14T25:00+08:00", "2025-02-14T10:00",
        "\x00", "\ufeff",
        "HSI", "reach", "range", "outperform", "manual", "close", "intraday", "stated", "none", "implied",
        "https://x.example/a", "http://", "javascript:alert(1)",
    ]),
)  # fmt: skip


def _csv_row(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(NASTY_CELLS, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=4)
)
def test_fuzzed_forecast_csv_is_rejected_cleanly_or_imported_whole(rows, hsi):
    text = ",".join(COLUMNS) + "\n" + "\n".join(_csv_row(r) for r in rows) + "\n"
    before = (Forecast.all_objects.count(), Source.objects.count(), Strategist.objects.count())
    try:
        result = import_forecasts(text)
    except ImportFailed as exc:
        assert exc.errors and all(
            e.startswith(("row ", "header", "the file", "more than")) for e in exc.errors
        )
        assert (Forecast.all_objects.count(), Source.objects.count(), Strategist.objects.count()) == before
    else:
        assert result.created + result.existing == len(rows)


@settings(max_examples=60, deadline=None)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_fuzzed_bytes_as_forecast_csv(data):
    try:
        import_forecasts(data)
    except ImportFailed as exc:
        assert exc.errors
    assert not Forecast.all_objects.exists()


PRICE_CELL = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["", "NaN", "inf", "-1", "0", "1e308", "1e309", "23477.92", "2025-02-21", "2025-02-30"]),
)


@settings(max_examples=80, deadline=None)
@given(
    header=st.sampled_from(["date,open,high,low,close,volume", "date,close", "close,date", "day,price", ""]),
    rows=st.lists(st.lists(PRICE_CELL, min_size=1, max_size=7), max_size=6),
)
def test_fuzzed_price_csv_is_valid_or_rejected_with_a_reason(header, rows):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        frame = read_price_csv(io.BytesIO(text.encode()))
    except ProviderDataError as exc:
        assert str(exc)  # says what and where
    else:
        assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
        assert (frame["close"] > 0).all() and frame.index.is_monotonic_increasing and frame.index.is_unique
