"""Market data in the admin: instruments with their gaps, bars with CSV upload, the review queue
of held bars, revisions, and the log of every provider fetch (failures and fallbacks included)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from marketdata import services, uploads
from marketdata.models import (
    BarStatus,
    FetchLog,
    FetchOutcome,
    HeldBar,
    Instrument,
    PriceBar,
    PriceBarRevision,
    Split,
)
from marketdata.resilience import CircuitBreaker
from marketdata.signals import announce_bars

GAP_WINDOW_DAYS = 365


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "name",
        "name_zh_hant",
        "asset_class",
        "calendar_code",
        "currency",
        "trading_ended_on",
        "last_bar",
        "gaps_last_year",
        "held_count",
        "last_fetch",
    ]
    list_filter = ["asset_class", "calendar_code"]
    search_fields = ["symbol", "name", "name_zh_hant", "name_zh_hans"]
    readonly_fields = ["completeness", "recent_fetches"]
    actions = ["backfill_selected"]

    @admin.display(description="last bar")
    def last_bar(self, obj: Instrument):
        return obj.bars.order_by("-session").values_list("session", flat=True).first()

    @admin.display(description="missing (1 y)")
    def gaps_last_year(self, obj: Instrument) -> int:
        today = timezone.now().date()
        return len(services.missing_sessions(obj, today - timedelta(days=GAP_WINDOW_DAYS), today))

    @admin.display(description="held")
    def held_count(self, obj: Instrument) -> int:
        return obj.held_bars.filter(status=BarStatus.HELD).count()

    @admin.display(description="last fetch")
    def last_fetch(self, obj: Instrument) -> str:
        entry = obj.fetch_logs.order_by("-started_at").first()
        if entry is None:
            return "-"
        fallback = " (fallback)" if entry.fallback_used else ""
        return f"{entry.provider} {entry.get_outcome_display()}{fallback}, {entry.started_at:%Y-%m-%d %H:%M}"

    @admin.display(description="missing sessions")
    def completeness(self, obj: Instrument) -> str:
        if obj.pk is None:
            return "-"
        start = services.history_start(obj)
        gaps = services.missing_sessions(obj, start, timezone.now().date())
        if not gaps:
            return f"None since {start} (the history the scorer needs)."
        shown = ", ".join(d.isoformat() for d in gaps[:40])
        more = f" and {len(gaps) - 40} more" if len(gaps) > 40 else ""
        return (
            f"{len(gaps)} session(s) since {start} have no bar: {shown}{more}. "
            "Forecasts needing them wait as 'awaiting data'; use the 'Backfill' action."
        )

    @admin.display(description="recent fetches")
    def recent_fetches(self, obj: Instrument) -> str:
        rows = list(obj.fetch_logs.order_by("-started_at")[:10]) if obj.pk else []
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "{} {}: {}{}{}",
            (
                (
                    f"{e.started_at:%Y-%m-%d %H:%M}",
                    e.provider,
                    e.get_outcome_display(),
                    " (fallback)" if e.fallback_used else "",
                    f" - {e.error[:120]}" if e.error else "",
                )
                for e in rows
            ),
        )

    @admin.action(description="Backfill missing sessions")
    def backfill_selected(self, request: HttpRequest, queryset) -> None:
        from marketdata.tasks import backfill_prices

        for instrument in queryset:
            transaction.on_commit(lambda pk=instrument.pk: backfill_prices.delay(pk))
        self.message_user(request, f"Backfill queued for {queryset.count()} instrument(s).")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # a new instrument gets its history (>= 300 sessions before its first baseline)
            from marketdata.tasks import backfill_prices

            transaction.on_commit(lambda: backfill_prices.delay(obj.pk))


class PriceCSVUploadForm(forms.Form):
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.all())
    file = forms.FileField(
        help_text="Columns date,open,high,low,close,volume (open/high/low/volume optional)."
    )
    source = forms.CharField(
        max_length=32, required=False, help_text="Recorded on every bar; default csv:<file name>."
    )


class PriceCSVConfirmForm(forms.Form):
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.all(), widget=forms.HiddenInput)
    source = forms.CharField(max_length=32, widget=forms.HiddenInput)
    content = forms.CharField(widget=forms.HiddenInput, strip=False)
    digest = forms.CharField(widget=forms.HiddenInput)


def figure(value: float | None, digits: int = 4) -> str:
    """A stored float for an admin column: thousands separators, at most `digits` decimals, never -0."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@admin.register(PriceBar)
class PriceBarAdmin(admin.ModelAdmin):
    list_display = [
        "instrument",
        "session",
        "open_shown",
        "high_shown",
        "low_shown",
        "close_shown",
        "volume_shown",
        "source",
        "fetched_at",
    ]
    list_filter = ["source", "instrument__calendar_code", "instrument"]
    search_fields = ["instrument__symbol"]
    autocomplete_fields = ["instrument"]
    date_hierarchy = "session"
    list_select_related = ["instrument"]
    show_full_result_count = False
    change_list_template = "admin/marketdata/pricebar/change_list.html"

    # Prices as quoted (22,576.98), not as stored in binary (22576.980468750004).
    @admin.display(description="open", ordering="open")
    def open_shown(self, obj: PriceBar) -> str:
        return figure(obj.open)

    @admin.display(description="high", ordering="high")
    def high_shown(self, obj: PriceBar) -> str:
        return figure(obj.high)

    @admin.display(description="low", ordering="low")
    def low_shown(self, obj: PriceBar) -> str:
        return figure(obj.low)

    @admin.display(description="close", ordering="close")
    def close_shown(self, obj: PriceBar) -> str:
        return figure(obj.close)

    @admin.display(description="volume", ordering="volume")
    def volume_shown(self, obj: PriceBar) -> str:
        return figure(obj.volume, 0)

    def get_urls(self):
        return [
            path(
                "upload-csv/",
                self.admin_site.admin_view(self.upload_csv),
                name="marketdata_pricebar_upload_csv",
            ),
            *super().get_urls(),
        ]

    def upload_csv(self, request: HttpRequest):
        """Upload -> preview (all checks, nothing written) -> confirm (all or nothing)."""
        if not self.has_add_permission(request):
            return redirect("admin:marketdata_pricebar_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload prices",
        }
        if request.method == "POST" and "confirm" in request.POST:
            form = PriceCSVConfirmForm(request.POST)
            if form.is_valid() and _digest(form.cleaned_data["content"]) == form.cleaned_data["digest"]:
                instrument = form.cleaned_data["instrument"]
                preview = uploads.preview_price_csv(
                    instrument, form.cleaned_data["content"], source=form.cleaned_data["source"]
                )
                if preview.errors:  # data changed since the preview: show it again
                    context.update(preview=preview, form=None)
                    return TemplateResponse(request, "admin/marketdata/upload_csv.html", context)
                result = uploads.import_price_csv(preview, actor=request.user)
                self.message_user(
                    request,
                    f"{instrument}: {result.created} new, {result.updated} revised, "
                    f"{result.unchanged} unchanged bars imported from {preview.source}.",
                    messages.SUCCESS,
                )
                changelist = reverse("admin:marketdata_pricebar_changelist")
                return redirect(f"{changelist}?instrument__id__exact={instrument.pk}")
            messages.error(request, "The upload could not be confirmed; please upload the file again.")
            return redirect("admin:marketdata_pricebar_upload_csv")
        if request.method == "POST":
            form = PriceCSVUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                raw = upload.read()
                text = raw.decode("utf-8-sig", errors="replace")
                source = form.cleaned_data["source"] or f"csv:{upload.name}"[:32]
                preview = uploads.preview_price_csv(form.cleaned_data["instrument"], text, source=source)
                confirm = None
                if not preview.errors:
                    confirm = PriceCSVConfirmForm(
                        initial={
                            "instrument": preview.instrument.pk,
                            "source": source,
                            "content": text,
                            "digest": _digest(text),
                        }
                    )
                context.update(preview=preview, confirm=confirm, form=form if preview.errors else None)
                return TemplateResponse(request, "admin/marketdata/upload_csv.html", context)
        else:
            form = PriceCSVUploadForm(initial={"instrument": request.GET.get("instrument")})
        context.update(form=form)
        return TemplateResponse(request, "admin/marketdata/upload_csv.html", context)


@admin.register(Split)
class SplitAdmin(admin.ModelAdmin):
    list_display = ["instrument", "ex_date", "ratio", "source"]
    autocomplete_fields = ["instrument"]


@admin.register(HeldBar)
class HeldBarAdmin(admin.ModelAdmin):
    list_display = [
        "instrument",
        "session",
        "status",
        "close_shown",
        "z_score_shown",
        "reason",
        "source",
        "fetched_at",
        "decided_by",
    ]
    list_filter = ["status", "source", "instrument"]
    search_fields = ["instrument__symbol", "reason"]
    list_select_related = ["instrument", "decided_by"]
    actions = ["release", "reject"]
    # The float fields shown formatted (z score 3.52, not 3.5249999999999995).
    fields = [
        {"open": "open_shown", "high": "high_shown", "low": "low_shown", "close": "close_shown"}.get(
            f.name, "z_score_shown" if f.name == "z_score" else f.name
        )
        for f in HeldBar._meta.fields
        if f.name != "volume"
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="open")
    def open_shown(self, obj: HeldBar) -> str:
        return figure(obj.open)

    @admin.display(description="high")
    def high_shown(self, obj: HeldBar) -> str:
        return figure(obj.high)

    @admin.display(description="low")
    def low_shown(self, obj: HeldBar) -> str:
        return figure(obj.low)

    @admin.display(description="close", ordering="close")
    def close_shown(self, obj: HeldBar) -> str:
        return figure(obj.close)

    @admin.display(description="z score", ordering="z_score")
    def z_score_shown(self, obj: HeldBar) -> str:
        return figure(obj.z_score, 2)

    def get_changelist(self, request, **kwargs):
        if "status__exact" not in request.GET and not request.GET.get("q"):
            request.GET = request.GET.copy()  # show the review queue by default
            request.GET["status__exact"] = BarStatus.HELD
        return super().get_changelist(request, **kwargs)

    @admin.action(description="Release: store the bar and rescore")
    def release(self, request, queryset) -> None:
        released = 0
        for held in queryset.filter(status=BarStatus.HELD).select_related("instrument"):
            result = services.release_held_bar(held, actor=request.user, note="Released in the admin.")
            if result.written:
                released += 1
                announce_bars(
                    held.instrument_id,
                    revised_from=min(result.revised_sessions) if result.revised_sessions else None,
                )
        self.message_user(request, f"{released} bar(s) released and stored; affected forecasts rescored.")

    @admin.action(description="Reject: never use these bars")
    def reject(self, request, queryset) -> None:
        count = sum(
            services.reject_held_bar(h, actor=request.user, note="Rejected in the admin.")
            for h in queryset.filter(status=BarStatus.HELD)
        )
        self.message_user(request, f"{count} bar(s) rejected.")


@admin.register(PriceBarRevision)
class PriceBarRevisionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "session", "close_change", "old_source", "new_source", "revised_at"]
    list_filter = ["new_source", "instrument"]
    search_fields = ["instrument__symbol"]
    date_hierarchy = "revised_at"
    list_select_related = ["instrument"]
    readonly_fields = [f.name for f in PriceBarRevision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FetchLog)
class FetchLogAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "instrument",
        "provider",
        "outcome_shown",
        "fallback_used",
        "rows",
        "created",
        "revised",
        "held",
        "rejected",
        "duration_ms",
        "circuit_now",
        "short_error",
    ]
    list_filter = ["provider", "outcome", "fallback_used", "instrument"]
    search_fields = ["instrument__symbol", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["instrument"]
    readonly_fields = [f.name for f in FetchLog._meta.fields]
    actions = ["reset_circuit"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="outcome", ordering="outcome")
    def outcome_shown(self, obj: FetchLog) -> str:
        colour = {FetchOutcome.OK: "green", FetchOutcome.EMPTY: "grey"}.get(obj.outcome, "#ba2121")
        return format_html('<b style="color:{}">{}</b>', colour, obj.get_outcome_display())

    @admin.display(description="circuit now")
    def circuit_now(self, obj: FetchLog) -> str:
        return CircuitBreaker(obj.provider).state()

    @admin.display(description="error")
    def short_error(self, obj: FetchLog) -> str:
        return obj.error[:120]

    @admin.action(description="Close the circuit of these providers (try them again now)")
    def reset_circuit(self, request, queryset) -> None:
        names = sorted(set(queryset.values_list("provider", flat=True)))
        for name in names:
            CircuitBreaker(name).reset()
        self.message_user(request, f"Circuit closed for {', '.join(names)}.")
