"""What marketdata tells the rest of the service, without knowing who listens.

`bars_changed` is sent once the transaction that stored new or revised bars of an instrument commits
(`announce_bars`); forecasts connects its scorer in its app config. `history_anchor` asks the apps that
keep claims about an instrument for the earliest moment its price history must reach.
marketdata imports nothing from forecasts.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.dispatch import Signal

# sender=Instrument, instrument_id=int, revised_from=date | None (the earliest revised session).
bars_changed = Signal()
# sender=Instrument, instrument=Instrument; receivers return a datetime or None.
history_anchor = Signal()
# sender=Instrument, instrument_id=int: bars or splits were written by a bulk path (no model signals), sent
# after commit by every writer of prices, whether or not it also asks for rescoring (bars_changed).
prices_written = Signal()


def announce_prices_written(instrument_id: int) -> None:
    from marketdata.models import Instrument

    transaction.on_commit(
        lambda: prices_written.send(sender=Instrument, instrument_id=instrument_id), robust=True
    )


def announce_bars(instrument_id: int, *, revised_from: date | None = None) -> None:
    """Send bars_changed for the instrument once the current transaction commits."""
    from marketdata.models import Instrument

    def send() -> None:
        bars_changed.send(sender=Instrument, instrument_id=instrument_id, revised_from=revised_from)

    transaction.on_commit(send, robust=True)


def earliest_interest(instrument) -> datetime | None:
    """The earliest moment any listener needs the instrument's history from."""
    from marketdata.models import Instrument

    found = [value for _receiver, value in history_anchor.send(sender=Instrument, instrument=instrument)]
    found = [value for value in found if value is not None]
    return min(found) if found else None
