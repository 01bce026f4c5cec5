"""Editors' decisions go through services that validate and keep history."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from forecasts import services
from forecasts.models import Forecast, ForecastEvent, Status
from tests.factories import InstrumentFactory, SourceFactory, StrategistFactory, make_forecast

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(django_user_model):
    """Corrections, voids and judgements are a reviewer's (forecasts.editorial.roles)."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("reviewer", password="x")
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def _claim(**overrides):
    hsi = InstrumentFactory(symbol="HSI", calendar_code="XHKG", asset_class="index")
    base = {
        "kind": "reach",
        "target": 23200.0,
        "target_upper": None,
        "instrument": hsi,
        "other_instrument": None,
        "basis": "close",
        "made_at": datetime(2025, 2, 15, tzinfo=ZoneInfo("Asia/Hong_Kong")),
        "deadline": date(2025, 12, 31),
        "deadline_source": "stated",
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"target": 0.0}, "target", "greater than 0"),
        ({"target": None}, "target", "needs a target"),
        ({"kind": "range", "target_upper": 100.0}, "target_upper", "must be above the lower"),
        ({"kind": "range"}, "target_upper", "needs an upper bound"),
        ({"kind": "outperform", "target": None}, "other_instrument", "needs a second instrument"),
        ({"kind": "move_pct", "target": -100.0}, "target", "percentage"),
        ({"deadline": date(2025, 2, 1)}, "deadline", "must be after the day the forecast was made"),
        ({"deadline": None}, "deadline", "required when its source is 'stated'"),
        ({"deadline_source": "none"}, "deadline_source", "must be 'stated' or 'implied'"),
        ({"kind": "guess"}, "kind", "Unknown kind"),
        ({"basis": "weekly"}, "basis", "Unknown basis"),
        ({"made_at": datetime(2025, 2, 15)}, "made_at", "time zone"),  # noqa: DTZ001
    ],
)
def test_validation_names_the_field(overrides, field, fragment):
    with pytest.raises(ValidationError) as exc:
        services.validate_claim(**_claim(**overrides))
    assert field in exc.value.message_dict
    assert any(fragment in m for m in exc.value.message_dict[field])


def test_valid_claim_passes():
    services.validate_claim(**_claim())
    services.validate_claim(**_claim(kind="move_pct", target=-10.0))
    services.validate_claim(**_claim(kind="manual", target=None))


def test_void_needs_a_reason_and_keeps_history(reviewer):
    f = make_forecast(instrument=InstrumentFactory())
    with pytest.raises(ValidationError):
        services.forecast_void(f, reason="  ", actor=reviewer)
    services.forecast_void(f, reason="Misquote: the article was corrected", actor=reviewer)
    f.refresh_from_db()
    assert f.status == Status.VOID and f.void_reason == "Editor: Misquote: the article was corrected"
    event = f.events.latest("id")
    assert (event.action, event.actor, event.changes) == ("voided", reviewer, {"status": ["pending", "void"]})


def test_judge_manual_forecast(reviewer):
    f = make_forecast(instrument=InstrumentFactory(), kind="manual", target=None)
    services.forecast_judge(
        f, outcome="hit", reason="They did revise upward", resolved_on=date(2025, 3, 1), actor=reviewer
    )
    f.refresh_from_db()
    assert (f.status, f.resolved_on) == ("hit", date(2025, 3, 1))
    assert f.events.latest("id").action == "judged"
    numeric = make_forecast(instrument=InstrumentFactory())
    with pytest.raises(ValidationError):
        services.forecast_judge(
            numeric, outcome="hit", reason="x", resolved_on=date(2025, 3, 1), actor=reviewer
        )


def test_correction_keeps_the_old_claim_in_history(reviewer, hsi_with_prices, seed_forecast):
    services.forecasts_score(hsi_with_prices)
    services.forecast_correct(
        seed_forecast, changes={"target": 24000.0}, reason="Article says 24,000", actor=reviewer
    )
    f = Forecast.objects.get(pk=seed_forecast.pk)
    event = f.events.filter(action="corrected").get()
    assert event.changes == {"target": [23200.0, 24000.0]} and event.actor == reviewer
    assert f.status == Status.PENDING  # until rescored
    with pytest.raises(ValidationError):
        services.forecast_correct(f, changes={"target": -1.0}, reason="typo", actor=reviewer)
    with pytest.raises(ValidationError):
        services.forecast_correct(f, changes={"status": "hit"}, reason="cheat", actor=reviewer)


def test_scorer_never_touches_editor_voids(hsi_with_prices, seed_forecast, reviewer):
    services.forecast_void(seed_forecast, reason="Misquote", actor=reviewer)
    services.forecasts_score(hsi_with_prices, revised_from=date(2020, 1, 1))
    assert Forecast.objects.get(pk=seed_forecast.pk).status == Status.VOID


def test_same_person_same_firm_is_matched():
    firm = services.firm_get_or_create("Goldman Sachs")
    a = services.strategist_get_or_create("David Kostin", firm=firm)
    assert services.strategist_get_or_create("david  kostin", firm=firm) == a
    assert services.firm_get_or_create("goldman sachs") == firm


def test_source_published_mismatch_is_an_error():
    from forecasts.services.recording import ForecastInput, RecordingRefused, SourceInput, record_source

    source = SourceFactory()
    with pytest.raises(RecordingRefused, match="already recorded"):
        record_source(
            SourceInput(url=source.url, publication="x", published=date(2024, 1, 1)),
            [
                ForecastInput(
                    strategist="A B", quote="q", instrument=InstrumentFactory(), kind="reach", target=1
                )
            ],
        )


def test_quote_is_required():
    with pytest.raises(ValidationError, match="quote"):
        services.forecast_create(
            strategist=StrategistFactory(),
            source=SourceFactory(),
            quote=" ",
            instrument=InstrumentFactory(),
            kind="reach",
            target=1.0,
        )
    assert not ForecastEvent.objects.exists()


def test_summary_mean_directional_return_counts_a_fall_as_a_gain_for_direction_down():
    from forecasts.selectors import summarize

    person = StrategistFactory()
    up = make_forecast(instrument=InstrumentFactory(), strategist=person, kind="direction_up", target=None)
    down = make_forecast(
        instrument=InstrumentFactory(), strategist=person, kind="direction_down", target=None
    )
    reach = make_forecast(instrument=InstrumentFactory(), strategist=person)
    decided = {"resolved_on": date(2025, 6, 30), "baseline": 100.0, "difficulty": 0.5}
    Forecast.all_objects.filter(pk=up.pk).update(
        status="hit", resolution_price=110.0, window_return=0.10, benchmark_return=0.04, skill=0.5, **decided
    )
    Forecast.all_objects.filter(pk=down.pk).update(
        status="hit", resolution_price=95.0, window_return=-0.05, benchmark_return=-0.01, skill=0.5, **decided
    )
    # Not directional: its move must not count.
    Forecast.all_objects.filter(pk=reach.pk).update(
        status="miss", resolution_price=50.0, skill=-0.5, **decided
    )
    s = summarize(Forecast.objects.filter(strategist=person))
    assert s.mean_directional_return == pytest.approx((0.10 + 0.05) / 2)
    # Against the benchmark: up beat it by 6 points, down fell 4 points more than it.
    assert s.mean_directional_excess_return == pytest.approx((0.06 + 0.04) / 2)
    assert (s.hits, s.misses, s.skill.n) == (2, 1, 3)
    assert s.mean_boldness == pytest.approx(0.5)


def test_a_refresh_stores_what_the_orm_computes_for_several_subjects_at_once():
    """refresh() runs the figures query from SQL the ORM compiled once, with the ids spliced in: for
    several subjects per scope, with hits, misses, pending and directional calls, it stores exactly the
    ORM's own grouped aggregate, and a subject left with nothing published loses its row."""
    from forecasts.models import SubjectAggregate
    from forecasts.services import aggregates

    people = [StrategistFactory() for _ in range(3)]
    markets = [InstrumentFactory() for _ in range(2)]
    decided = {"resolved_on": date(2025, 6, 30), "baseline": 100.0, "difficulty": 0.25}
    for i, (status, kind) in enumerate(
        [("hit", "direction_up"), ("miss", "reach"), ("pending", "reach"), ("hit", "direction_down")] * 2
    ):
        f = make_forecast(
            instrument=markets[i % 2],
            strategist=people[i % 3],
            kind=kind,
            target=None if kind.startswith("direction") else 120.0,
        )
        if status != "pending":
            Forecast.all_objects.filter(pk=f.pk).update(
                status=status,
                skill=0.5 if status == "hit" else -0.25,
                window_return=0.01 * (i + 1),
                benchmark_return=0.004 * i,
                **decided,
            )
    lonely = StrategistFactory()
    # A stale row, as a strategist whose only forecast was deleted leaves: the refresh removes it.
    SubjectAggregate.objects.create(scope="strategist", subject_id=lonely.pk, figures={"n_total": 1})
    for scope, field in (
        ("strategist", "strategist_id"),
        ("firm", "firm_id"),
        ("instrument", "instrument_id"),
    ):
        ids = set(Forecast.all_objects.values_list(field, flat=True)) | {lonely.pk}
        aggregates.refresh(scope, ids)
        orm = aggregates.live_figures(field)  # the ORM's own grouped aggregate
        stored = dict(SubjectAggregate.objects.filter(scope=scope).values_list("subject_id", "figures"))
        assert stored == orm and len(orm) >= 2
    assert not SubjectAggregate.objects.filter(scope="strategist", subject_id=lonely.pk).exists()
    assert aggregates.check() == []


def test_the_precomputed_aggregates_follow_every_editorial_action(
    seed_forecast, hsi_with_prices, django_user_model
):
    """Publication (a queryset update), correction and voiding each leave the boards' stored
    figures equal to a live computation (forecasts.services.aggregates)."""
    from forecasts.services import aggregates
    from forecasts.services.editorial import forecast_correct, forecast_publish, forecast_void

    reviewer = django_user_model.objects.create_superuser("rita-agg", password="pw-12345")
    draft = make_forecast(instrument=hsi_with_prices, target=26000.0, publish=False)
    assert aggregates.check() == []
    forecast_publish(draft, actor=reviewer)
    assert aggregates.check() == []
    forecast_correct(draft, changes={"target": 26500.0}, reason="misquoted", actor=reviewer)
    assert aggregates.check() == []
    # A correction of the instrument moves the call out of HSI's figures and into the other's.
    other = InstrumentFactory()
    forecast_correct(draft, changes={"instrument": other}, reason="wrong market", actor=reviewer)
    assert aggregates.check() == []
    forecast_void(Forecast.all_objects.get(pk=seed_forecast.pk), reason="withdrawn", actor=reviewer)
    assert aggregates.check() == []
