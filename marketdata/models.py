"""Instruments and their daily price bars.

Prices are stored RAW: the quotes of their own day, never adjusted for splits or
dividends, because forecast targets were quoted in those prices. Splits are kept
apart (Split) and applied by the scorer.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class AssetClass(models.TextChoices):
    INDEX = "index", "Index"
    EQUITY = "equity", "Equity"
    FX = "fx", "FX"
    COMMODITY = "commodity", "Commodity"
    CRYPTO = "crypto", "Crypto"


class CalendarCode(models.TextChoices):
    XHKG = "XHKG", "Hong Kong Exchanges (XHKG)"
    XNYS = "XNYS", "New York Stock Exchange (XNYS)"
    CMES = "CMES", "CME Globex futures (CMES)"
    FX_24_5 = "24/5", "FX, Monday to Friday (24/5)"
    CRYPTO_24_7 = "24/7", "Crypto, every UTC day (24/7)"


CALENDAR_TIMEZONES = {
    CalendarCode.XHKG: "Asia/Hong_Kong",
    CalendarCode.XNYS: "America/New_York",
    CalendarCode.CMES: "America/Chicago",
    CalendarCode.FX_24_5: "UTC",
    CalendarCode.CRYPTO_24_7: "UTC",
}


class Instrument(models.Model):
    symbol = models.CharField(max_length=32, unique=True, help_text="Hindsight's own symbol, e.g. HSI, NVDA.")
    name = models.CharField(max_length=200)
    asset_class = models.CharField(max_length=16, choices=AssetClass.choices, default=AssetClass.INDEX)
    calendar_code = models.CharField(
        max_length=8, choices=CalendarCode.choices, help_text="Trading calendar that defines sessions."
    )
    currency = models.CharField(
        max_length=8, blank=True, help_text="ISO code, e.g. HKD; blank for index points."
    )
    provider_symbols = models.JSONField(
        default=dict, blank=True, help_text='Symbol per provider, e.g. {"yahoo": "^HSI"}.'
    )
    trading_ended_on = models.DateField(
        null=True, blank=True, help_text="Last session if the instrument stopped trading (delisted)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(
                condition=Q(calendar_code__in=CalendarCode.values), name="instrument_calendar_code_known"
            ),
            models.CheckConstraint(
                condition=Q(asset_class__in=AssetClass.values), name="instrument_asset_class_known"
            ),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def timezone_name(self) -> str:
        return CALENDAR_TIMEZONES[CalendarCode(self.calendar_code)]


class PriceBar(models.Model):
    """One daily bar, keyed by the exchange's session date (not the UTC day)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bars")
    session = models.DateField(help_text="Exchange-local session date.")
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField()
    volume = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32, help_text="Provider that supplied this bar.")
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["instrument", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "session"], name="pricebar_unique_instrument_session"
            ),
            models.CheckConstraint(condition=Q(close__gt=0), name="pricebar_close_positive"),
            models.CheckConstraint(
                condition=Q(high__isnull=True) | Q(low__isnull=True) | Q(high__gte=F("low")),
                name="pricebar_high_gte_low",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.session} {self.close}"


class Split(models.Model):
    """A stock split: from ex_date on, one old share is `ratio` new shares."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="splits")
    ex_date = models.DateField()
    ratio = models.FloatField(help_text="New shares per old share, e.g. 10 for a 10-for-1 split.")
    source = models.CharField(max_length=32)

    class Meta:
        ordering = ["instrument", "ex_date"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "ex_date"], name="split_unique_instrument_date"),
            models.CheckConstraint(condition=Q(ratio__gt=0), name="split_ratio_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.ex_date} x{self.ratio}"
