from datetime import date

import factory

from forecasts import services
from forecasts.models import Firm, Source, Strategist
from marketdata.models import Instrument


class InstrumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instrument
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"SYM{n}")
    name = factory.LazyAttribute(lambda o: f"Instrument {o.symbol}")
    asset_class = "equity"
    calendar_code = "XNYS"


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"Firm {n}")
    slug = factory.Sequence(lambda n: f"firm-{n}")


class StrategistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategist

    name = factory.Sequence(lambda n: f"Strategist {n}")
    slug = factory.Sequence(lambda n: f"strategist-{n}")
    firm = factory.SubFactory(FirmFactory)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    publication = "Example Daily"
    url = factory.Sequence(lambda n: f"https://news.example/article/{n}")
    title = factory.Sequence(lambda n: f"Article {n}")
    published_at = factory.LazyFunction(lambda: services.end_of_day(date(2025, 2, 14), "Asia/Hong_Kong"))
    published_date_only = True
    published_on = date(2025, 2, 14)


def make_forecast(*, strategist=None, source=None, instrument, kind="reach", target=100.0, **kwargs):
    """A forecast recorded through the service, as editors record them."""
    return services.forecast_create(
        strategist=strategist or StrategistFactory(),
        source=source or SourceFactory(),
        instrument=instrument,
        kind=kind,
        target=target,
        quote=kwargs.pop("quote", f"{instrument.symbol} to {target}"),
        **kwargs,
    )
