"""Instruments: creating them from the catalog, and how providers know them."""

from __future__ import annotations

import logging

from marketdata.catalog import spec_for_symbol
from marketdata.models import (
    Instrument,
)
from marketdata.providers.base import (
    InstrumentRef,
)

log = logging.getLogger(__name__)


def instrument_ref(instrument: Instrument) -> InstrumentRef:
    return InstrumentRef(
        symbol=instrument.symbol,
        calendar_code=instrument.calendar_code,
        timezone=instrument.timezone_name,
        provider_symbols=dict(instrument.provider_symbols or {}),
    )


def get_or_create_instrument(symbol: str) -> tuple[Instrument, bool]:
    """The instrument for `symbol`, creating it from the catalog (or a guess) if new."""
    spec = spec_for_symbol(symbol)
    return Instrument.objects.get_or_create(
        symbol=spec.symbol,
        defaults={
            "name": spec.name,
            "name_zh_hant": spec.name_zh_hant,
            "asset_class": spec.asset_class,
            "calendar_code": spec.calendar_code,
            "currency": spec.currency,
            "provider_symbols": dict(spec.provider_symbols),
        },
    )
