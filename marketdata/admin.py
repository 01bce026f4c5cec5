from django.contrib import admin

from marketdata.models import Instrument, PriceBar, Split


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["symbol", "name", "asset_class", "calendar_code", "currency", "trading_ended_on"]
    list_filter = ["asset_class", "calendar_code"]
    search_fields = ["symbol", "name"]


@admin.register(PriceBar)
class PriceBarAdmin(admin.ModelAdmin):
    list_display = ["instrument", "session", "open", "high", "low", "close", "volume", "source", "fetched_at"]
    list_filter = ["source", "instrument__calendar_code"]
    search_fields = ["instrument__symbol"]
    autocomplete_fields = ["instrument"]
    date_hierarchy = "session"
    list_select_related = ["instrument"]
    show_full_result_count = False


@admin.register(Split)
class SplitAdmin(admin.ModelAdmin):
    list_display = ["instrument", "ex_date", "ratio", "source"]
    autocomplete_fields = ["instrument"]
