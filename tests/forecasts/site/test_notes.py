"""Stored notes in the reader's language (forecasts/site/notes.py).

Every note the scorer can write (each note function of forecasts/scoring/rules.py, each variant) is
rendered in zh-Hant without an English word left; English pages show the stored note as it is; text the
patterns do not know is shown unchanged.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from forecasts.scoring import rules
from forecasts.site import notes

ENGLISH_WORD = re.compile(r"[A-Za-z]+")
SHAPES = notes.catalog().notes


def _zh(text: str, language: str = "zh-hant") -> str:
    with translation.override(language):
        return notes.note_text(text)


def test_the_patterns_are_derived_from_rules_without_a_desync():
    notes.catalog.cache_clear()
    cat = notes.catalog()  # raises NoteDesync when a template no longer fits its note function
    keys = {s.key.split(":")[0] for s in cat.notes}
    functions = {
        name for name, _fn in inspect.getmembers(rules, inspect.isfunction) if name.startswith("note_")
    }
    assert functions <= keys
    used = {s.key for s in cat.notes} | {s.key for part in cat.parts.values() for s in part}
    assert set(notes.TEMPLATES) == used, "templates for notes rules.py no longer writes"


@pytest.mark.parametrize("shape", SHAPES, ids=[s.key for s in SHAPES])
@pytest.mark.parametrize("language", ["zh-hant", "zh-hans"])
def test_every_note_renders_in_chinese_without_english_words(shape, language):
    out = _zh(shape.example, language)
    assert out != shape.example
    assert not ENGLISH_WORD.findall(out), out


@pytest.mark.parametrize("shape", SHAPES, ids=[s.key for s in SHAPES])
def test_english_pages_show_the_stored_note_unchanged(shape):
    with translation.override("en"):
        assert notes.note_text(shape.example) == shape.example


@pytest.mark.parametrize(
    "note",
    [
        rules.note_touched("high", 23_512.5, "≥", 23_200, 1.0, 23_200, date(2025, 3, 3)),
        rules.note_touched("low", 9.5, "≤", 10, 2.0, 20, date(2025, 3, 3)),
        rules.note_never_touched(
            rules.Basis.INTRADAY,
            rules.touch_level(False, 18_000),
            250,
            date(2025, 12, 31),
            "low",
            18_250.4,
            date(2025, 4, 7),
        ),
        rules.note_awaiting([date(2025, 3, d) for d in range(3, 9)]),
        rules.note_last_close(
            22_620.33,
            date(2025, 12, 31),
            False,
            rules.judge_last_close(
                rules.Claim(
                    rules.Kind.RANGE, datetime(2025, 2, 14, tzinfo=UTC), target=22_000, target_upper=24_000
                ),
                22_620.33,
                21_000,
                1.0,
            )[1],
        ),
        rules.note_last_close(
            0.012345,
            date(2025, 12, 31),
            True,
            rules.judge_last_close(
                rules.Claim(rules.Kind.DIRECTION_DOWN, datetime(2025, 2, 14, tzinfo=UTC)), 0.012345, 0.02, 1.0
            )[1],
        ),
        rules.note_not_yet_made(datetime(2025, 2, 14, 8, 30, 0, 123456, tzinfo=UTC)),
        rules.note_outperform_pending([date(2025, 12, 31)]),
    ],
)
def test_real_notes_in_other_shapes_are_translated(note):
    out = _zh(note)
    assert not ENGLISH_WORD.findall(out), f"{note!r} -> {out!r}"


def test_a_void_for_missing_bars_lists_its_dates_in_chinese():
    void = rules.automatic_void(
        trading_ended_on=None,
        last=date(2025, 12, 31),
        complete_through=date(2026, 1, 15),
        awaiting=True,
        cutoff_passed=True,
        cutoff=date(2026, 1, 15),
        missing=[date(2025, 12, d) for d in (24, 29, 30, 31)],
    )
    assert void is not None
    out = _zh(void[0])
    assert "2025年12月24日、2025年12月29日、2025年12月30日及另外 1 日" in out
    assert f"{rules.VOID_AFTER_SESSIONS} 個交易日" in out


def test_a_note_with_a_split_says_so():
    out = _zh(rules.note_touched("closed at", 105.0, "≥", 100.0, 2.0, 200.0, date(2025, 6, 2)))
    assert out == "2025年6月2日收市報 105，≥ 100（按拆股調整，原為 200）"


@pytest.mark.parametrize(
    "stored, expected",
    [
        ("Judged by an editor: the index was renamed", "由編輯判定：the index was renamed"),
        ("Editor: misquote", "編輯：misquote"),
        ("void", "無效"),
        (
            "return +5.23% to 2025-12-31 > benchmark -1.10% to 2025-12-31",
            "截至2025年12月31日回報 +5.23% > 比較基準截至2025年12月31日回報 -1.10%",
        ),
        (
            "Quoted in China Daily HK, https://www.chinadailyhk.com/hk/article/604533 Revises #3.",
            "引述自《China Daily HK》，https://www.chinadailyhk.com/hk/article/604533 修訂 #3。",
        ),
        (
            "Quoted in Reuters, https://example.com/a Held for review: possibly the same call as #12.",
            "引述自《Reuters》，https://example.com/a 待審核：可能與 #12 屬同一預測。",
        ),
        (
            "Price bars that decided it were revised: "
            "2025-02-21 close 23,477.92 → 23,150 (offline → vendor-fix). "
            "closed at 23,150 on 2025-02-21: not ≥ 23,200",
            "判定所依據的價格數據已修訂：2025年2月21日收市價 23,477.92 → 23,150（offline → vendor-fix）。 "
            "2025年2月21日收市報 23,150，不符合條件：≥ 23,200",
        ),
    ],
)
def test_reasons_written_by_the_services(stored, expected):
    assert _zh(stored) == expected


def test_the_services_still_write_the_reasons_the_patterns_expect():
    """Those reasons are f-strings in the services (no pure function to derive them from)."""
    src = Path(settings.BASE_DIR) / "forecasts" / "services"
    text = {
        name: (src / name).read_text(encoding="utf-8") for name in ("editorial.py", "claims.py", "scoring.py")
    }
    assert 'f"Judged by an editor: {reason.strip()}"' in text["editorial.py"]
    assert 'f"Editor: {reason.strip()}"' in text["editorial.py"]
    assert 'f"Quoted in {source.publication}, {source.url}"' in text["claims.py"]
    assert 'f" Held for review: possibly the same call as #{possible_duplicate_of.pk}."' in text["claims.py"]
    assert 'f" Revises #{supersedes.pk}."' in text["claims.py"]
    assert '"Price bars that decided it were revised. "' in text["scoring.py"]
    assert "f\"Price bars that decided it were revised: {'; '.join(parts)}. \"" in text["scoring.py"]
    assert (
        "f\"{r.session} close {r.old_values.get('close'):,} → {r.new_values.get('close'):,} \""
        in text["scoring.py"]
    )
    single = (src.parent / "scoring" / "single.py").read_text(encoding="utf-8")
    assert "f\"return {ra:+.2%} to {a.last.isoformat()} {'>' if ok else '≤'} \"" in single
    assert 'f"benchmark {rb:+.2%} to {b.last.isoformat()}"' in single
    recording = (src / "recording.py").read_text(encoding="utf-8")
    assert '"Recorded as a separate call although similar to "' in recording
    assert '" (the editor said it is not a duplicate)."' in recording


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "something the scorer never wrote",
        "closed at 23,150 on 2025-02-21: not something else",
        "Quoted in X, https://x.example/ Target confirmed by a reviewer although it is far",
    ],
)
def test_unknown_text_falls_back_to_the_stored_english(stored):
    assert _zh(stored) == stored


def test_the_forecast_page_shows_the_note_in_the_readers_language(client, seed_forecast):
    from forecasts.models import Forecast

    note = rules.note_last_close(22_620.33, date(2025, 12, 31), False, "≥ 23,200")
    Forecast.all_objects.filter(pk=seed_forecast.pk).update(
        status="miss", status_note=note, resolved_on=date(2025, 12, 31), resolution_price=22_620.33
    )
    english = client.get(seed_forecast.get_absolute_url()).content.decode()
    assert note[1:] in english  # as stored (the page may capitalise its first letter)
    chinese = client.get("/zh-hant" + seed_forecast.get_absolute_url()).content.decode()
    assert "2025年12月31日收市報 22,620.33，不符合條件：≥ 23,200" in chinese
    assert note[1:] not in chinese
