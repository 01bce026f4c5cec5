"""Editors' admin.

Forecasts are entered through the add form or the editor's desk (forecasts.editorial.desk);
their score fields belong to the scorer. Once recorded, a claim is read-only:
publishing, correcting, voiding and judging are actions that ask for a reason
and go through forecasts.services, which checks the user's role and writes the
history and the ledger. Recording (the add form, the CSV import, the desk) goes
through forecasts.services.recording.record_source, the one way in; actions a user's role
cannot take are not offered.
"""

import csv
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from forecasts import services
from forecasts.editorial import desk
from forecasts.editorial.importers import COLUMNS, ImportFailed, import_forecasts
from forecasts.models import (
    Alias,
    Basis,
    DeadlineSource,
    Firm,
    Forecast,
    ForecastEvent,
    Kind,
    LedgerEntry,
    Source,
    Status,
    Strategist,
)
from forecasts.services import recording
from forecasts.services.recording import ForecastInput, RecordingRefused, record_forecast

CLAIM_FORM_FIELDS = [
    "strategist", "firm", "source", "quote", "instrument", "kind", "target", "target_upper",
    "other_instrument", "basis", "made_at", "deadline", "deadline_source",
]  # fmt: skip


@admin.register(Firm)
class FirmAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "website"]
    search_fields = ["name", "aliases__name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _slug_optional(super().get_form(request, obj, change=change, **kwargs))

    def save_model(self, request, obj, form, change):
        _clean_person(obj, Firm)
        super().save_model(request, obj, form, change)


@admin.register(Strategist)
class StrategistAdmin(SimpleHistoryAdmin):
    list_display = ["name", "firm", "title", "slug"]
    list_filter = ["firm"]
    search_fields = ["name", "firm__name", "aliases__name"]
    autocomplete_fields = ["firm"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _slug_optional(super().get_form(request, obj, change=change, **kwargs))

    def save_model(self, request, obj, form, change):
        _clean_person(obj, Strategist)
        super().save_model(request, obj, form, change)


def _slug_optional(form):
    form.base_fields["slug"].required = False
    form.base_fields["slug"].help_text = "Leave empty for a readable one (Chinese names in pinyin)."
    return form


def _clean_person(obj, model) -> None:
    """The recording service's rules for a name typed in the admin: no invisible or control
    characters, never empty; the slug readable (pinyin for Chinese names) when left empty."""
    errors = recording.FieldErrors()
    obj.name = recording.clean_text(obj.name, "strategist", errors, required=True)
    if errors:
        raise ValidationError({"name": errors["strategist"]})
    if not obj.slug:
        obj.slug = services.unique_slug(model, obj.name)


@admin.register(Alias)
class AliasAdmin(admin.ModelAdmin):
    list_display = ["name", "target", "strategist", "firm", "instrument"]
    list_filter = ["target"]
    search_fields = ["name", "strategist__name", "firm__name", "instrument__symbol"]
    autocomplete_fields = ["strategist", "firm", "instrument"]


class ForecastInline(admin.TabularInline):
    model = Forecast
    fields = [
        "strategist",
        "instrument",
        "kind",
        "target",
        "target_upper",
        "deadline",
        "deadline_source",
        "status",
    ]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["publication", "title", "published_at", "language", "url", "created_by"]
    list_filter = ["publication", "language"]
    search_fields = ["title", "url", "publication"]
    date_hierarchy = "published_at"
    inlines = [ForecastInline]

    def has_add_permission(self, request) -> bool:
        return False  # an article is recorded with its forecasts, at the desk (the one way in)

    def get_readonly_fields(self, request, obj=None):
        # What dates the claims, and the evidence, never change silently: only labels are editable.
        return [f.name for f in Source._meta.fields if f.name not in ("title", "publication", "language")]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/", view(partial(desk.desk_view, self)), name="forecasts_source_desk"),
            path("desk/done/", view(partial(desk.desk_done_view, self)), name="forecasts_source_desk_done"),
            *super().get_urls(),
        ]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "forecast", "action", "actor", "recorded_at", "digest"]
    list_filter = ["action"]
    search_fields = ["digest", "forecast__id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea,
        required=True,
        help_text=_("Shown on the public forecast page."),
    )


class JudgeForm(ReasonForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[(Status.HIT, _("Hit")), (Status.MISS, _("Miss"))]
    )
    resolved_on = forms.DateField(
        label=_("Resolved on"), help_text=_("The date the claim was decided (YYYY-MM-DD).")
    )


class CorrectionForm(ReasonForm):
    """The claim fields an editor may correct; blank means unchanged."""

    quote = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    kind = forms.ChoiceField(choices=[("", "(unchanged)"), *Kind.choices], required=False)
    target = forms.FloatField(required=False)
    target_upper = forms.FloatField(required=False)
    basis = forms.ChoiceField(choices=[("", "(unchanged)"), *Basis.choices], required=False)
    deadline = forms.DateField(required=False)
    deadline_source = forms.ChoiceField(
        choices=[("", "(unchanged)"), *DeadlineSource.choices], required=False
    )

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason" and v not in (None, "")}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), required=False, help_text=_("CSV in the import_forecasts format.")
    )
    content = forms.CharField(widget=forms.HiddenInput, required=False)


class ForecastEventInline(admin.TabularInline):
    model = ForecastEvent
    fields = ["at", "action", "actor", "changes", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ForecastAdminForm(forms.ModelForm):
    """The add form. Its clean() records the forecast through the recording service (inside the
    admin's transaction, so a later failure rolls it back) and shows every refusal on its field."""

    same_call_confirmed = forms.BooleanField(
        required=False,
        label="Not a duplicate",
        help_text="Tick when a similar forecast from another source is a separate call.",
    )
    confirm_reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Confirm an implausible target (reviewers)",
        help_text="Only for a target far from the last close that the article really states: say why.",
    )

    class Meta:
        model = Forecast
        fields = [*CLAIM_FORM_FIELDS, "supersedes"]

    request = None  # set by ForecastAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded = None
        for name in ("target", "target_upper"):
            if name in self.fields:
                self.fields[name].required = False
        if "supersedes" in self.fields:
            self.fields["supersedes"].label = "Revises"
            self.fields["supersedes"].help_text = (
                "The same strategist's earlier call on this instrument that this one revises "
                "(\u201craised its target to 8,800 from 8,610\u201d). Both stay on record and are scored."
            )

    def _post_clean(self):
        # Once the recording service has validated and recorded it, the model's own checks would only
        # find the row just written (identity is the service's: a claim already recorded is returned).
        if self.recorded is None:
            super()._post_clean()

    def clean(self):
        data = super().clean()
        if self.instance.pk or self.errors or self.request is None:
            return data
        item = ForecastInput(
            strategist=data["strategist"],
            firm=data.get("firm"),
            quote=data.get("quote", ""),
            instrument=data["instrument"],
            kind=data.get("kind", ""),
            target=data.get("target"),
            target_upper=data.get("target_upper"),
            other_instrument=data.get("other_instrument"),
            basis=data.get("basis") or Basis.CLOSE,
            made_at=data.get("made_at"),
            deadline=data.get("deadline") if data.get("deadline_source") != DeadlineSource.NONE else None,
            deadline_source=data.get("deadline_source"),
            not_duplicate=bool(data.get("same_call_confirmed")),
            confirm_implausible=bool(data.get("confirm_reason")),
            confirm_reason=data.get("confirm_reason", ""),
            supersedes=data.get("supersedes"),
        )
        try:
            self.recorded = record_forecast(data["source"], item, actor=self.request.user)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc
        except RecordingRefused as exc:
            for name, messages_ in exc.source_errors.items():
                self.add_error(None, [f"{name}: {m}" for m in messages_])
            for item_errors in exc.forecast_errors.values():
                for name, messages_ in item_errors.items():
                    self.add_error(name if name in self.fields else None, messages_)
        return data


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    form = ForecastAdminForm
    list_display = [
        "id", "strategist", "instrument", "kind", "target_shown", "deadline", "status", "resolved_on",
        "chance_by_luck_shown", "skill_shown",
        "published",
    ]  # fmt: skip
    list_filter = [
        "status",
        "kind",
        "deadline_source",
        ("published_at", admin.EmptyFieldListFilter),
        ("possible_duplicate_of", admin.EmptyFieldListFilter),  # held for review as a possible copy
        "instrument",
    ]
    search_fields = ["quote", "strategist__name", "instrument__symbol", "source__url"]
    autocomplete_fields = ["strategist", "firm", "source", "instrument", "other_instrument"]
    raw_id_fields = ["supersedes"]  # an id (with the admin's look-up), as every other door takes it
    list_select_related = ["strategist", "instrument"]
    date_hierarchy = "made_at"
    inlines = [ForecastEventInline]
    actions = ["publish_selected", "correct_selected", "void_selected", "judge_selected", "export_csv"]
    change_list_template = "admin/forecasts/forecast/change_list.html"

    # Floats as readers read them (no 0.10000000000000009): the change page and the list show these.
    @admin.display(description="target", ordering="target")
    def target_shown(self, obj) -> str:
        return _figure(obj.target)

    @admin.display(description="target upper")
    def target_upper_shown(self, obj) -> str:
        return _figure(obj.target_upper)

    @admin.display(description="resolution price")
    def resolution_price_shown(self, obj) -> str:
        return _figure(obj.resolution_price)

    @admin.display(description="baseline")
    def baseline_shown(self, obj) -> str:
        return _figure(obj.baseline)

    @admin.display(description="chance by luck (difficulty)", ordering="difficulty")
    def chance_by_luck_shown(self, obj) -> str:
        """The stored `difficulty`: the chance a random walk makes the claim come true (boldness = 1 − it)."""
        return _percent(obj.difficulty)

    @admin.display(description="skill", ordering="skill")
    def skill_shown(self, obj) -> str:
        return "—" if obj.skill is None else f"{0.0 if round(obj.skill, 3) == 0 else obj.skill:+.3f}"

    @admin.display(description="window return")
    def window_return_shown(self, obj) -> str:
        return _percent(obj.window_return, signed=True)

    @admin.display(description="benchmark return")
    def benchmark_return_shown(self, obj) -> str:
        return _percent(obj.benchmark_return, signed=True)

    @admin.display(boolean=True, ordering="published_at")
    def published(self, obj) -> bool:
        return obj.published_at is not None

    def get_fields(self, request, obj=None):
        # The add form asks for the claim; the change page shows the claim and its score, all read-only.
        return (
            [*CLAIM_FORM_FIELDS, "supersedes", "same_call_confirmed", "confirm_reason"]
            if obj is None
            else _shown_fields()
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The add form records through the service, which needs to know who is recording.
        return type(form.__name__, (form,), {"request": request}) if obj is None else form

    def get_actions(self, request):
        """Offer only what the user's role may do (the services refuse the rest anyway)."""
        actions = super().get_actions(request)
        needs = {
            "publish_selected": "publish_forecast",
            "correct_selected": "correct_forecast",
            "void_selected": "void_forecast",
            "judge_selected": "judge_forecast",
        }
        for name, perm in needs.items():
            if name in actions and not request.user.has_perm(f"forecasts.{perm}"):
                del actions[name]
        return actions

    def get_readonly_fields(self, request, obj=None):
        # Once recorded, the claim changes only through a correction with a reason.
        return _shown_fields() if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a published record is voided, never deleted

    def save_model(self, request, obj, form, change):
        if change:
            return
        # form.clean() recorded it through the recording service (scoring is queued on commit).
        obj.pk = form.recorded.forecast.pk
        obj.refresh_from_db()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import-csv/", view(self.import_csv_view), name="forecasts_forecast_import_csv"),
            *super().get_urls(),
        ]

    def _reason_action(self, request, queryset, form_class, action, title, apply):
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    for forecast in queryset:
                        apply(forecast, form)
                except ValidationError as exc:
                    self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                    return None
                self.message_user(request, f"{title}: {queryset.count()} forecast(s).", messages.SUCCESS)
                return None
        else:
            form = form_class()
        return render(
            request,
            "admin/forecasts/reason_form.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "forecasts": queryset,
                "action": action,
                "title": title,
            },
        )

    def _require(self, request, perm: str) -> None:
        if not request.user.has_perm(f"forecasts.{perm}"):
            raise PermissionDenied(f"Your role cannot {perm.split('_')[0]} forecasts.")

    @admin.action(description="Publish selected drafts (reviewers)")
    def publish_selected(self, request, queryset):
        self._require(request, "publish_forecast")
        drafts = queryset.filter(published_at__isnull=True)
        for forecast in drafts:
            services.forecast_publish(forecast, actor=request.user)
        self.message_user(request, f"Published {drafts.count()} forecast(s).", messages.SUCCESS)

    @admin.action(description="Correct the claim (reviewers; asks for the change and a reason)")
    def correct_selected(self, request, queryset):
        self._require(request, "correct_forecast")
        return self._reason_action(
            request,
            queryset,
            CorrectionForm,
            "correct_selected",
            _("Correct forecasts"),
            lambda f, form: services.forecast_correct(
                f, changes=form.changes(), reason=form.cleaned_data["reason"], actor=request.user
            ),
        )

    @admin.action(description="Void selected forecasts (reviewers; asks for a reason)")
    def void_selected(self, request, queryset):
        self._require(request, "void_forecast")
        return self._reason_action(
            request,
            queryset,
            ReasonForm,
            "void_selected",
            _("Void forecasts"),
            lambda f, form: services.forecast_void(f, reason=form.cleaned_data["reason"], actor=request.user),
        )

    @admin.action(description="Judge selected qualitative forecasts (reviewers; asks for outcome and reason)")
    def judge_selected(self, request, queryset):
        self._require(request, "judge_forecast")
        return self._reason_action(
            request,
            queryset,
            JudgeForm,
            "judge_selected",
            _("Judge forecasts"),
            lambda f, form: services.forecast_judge(
                f,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                resolved_on=form.cleaned_data["resolved_on"],
                actor=request.user,
            ),
        )

    @admin.action(description="Export selected as CSV (import_forecasts format)")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="forecasts.csv"'
        write_forecasts_csv(response, queryset)
        return response

    def import_csv_view(self, request):
        """Upload, preview (a dry run with per-row errors), then confirm: all or nothing."""
        self._require(request, "add_forecast")
        context = {**self.admin_site.each_context(request), "title": _("Import forecasts from CSV")}
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data.get("file")
            content = upload.read() if upload else form.cleaned_data["content"].encode("utf-8")
            confirm = "confirm" in request.POST
            try:
                result = import_forecasts(content, actor=request.user, dry_run=not confirm)
            except ImportFailed as exc:
                context.update(errors=exc.errors)
            else:
                if confirm:
                    self.message_user(
                        request,
                        f"Imported {result.created} forecast(s); {result.existing} were already recorded; "
                        f"{result.flagged} held for a reviewer as possible duplicates.",
                        messages.SUCCESS,
                    )
                else:
                    context.update(preview=result, content=content.decode("utf-8-sig", errors="replace"))
        context["form"] = form
        return render(request, "admin/forecasts/import_csv.html", context)


def write_forecasts_csv(out, forecasts) -> None:
    """Write forecasts in the import_forecasts format (a round trip re-imports to the same records)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for f in forecasts.select_related("strategist", "firm", "source", "instrument", "other_instrument"):
        published = _published_cell(f)
        writer.writerow([
            f.strategist.name, f.firm.name if f.firm else "", f.source.publication, f.source.url,
            f.source.title, published, f.quote, f.instrument.symbol, f.kind, _num(f.target),
            _num(f.target_upper),
            f.other_instrument.symbol if f.other_instrument else "", f.basis,
            "" if f.deadline_source == DeadlineSource.NONE else f.deadline.isoformat(), f.deadline_source,
            "",  # confirm_reason: a re-import finds the claim already recorded
            f.supersedes_id or "",
        ])  # fmt: skip


def _published_cell(f: Forecast) -> str:
    if f.source.published_date_only and f.source.published_on:
        return f.source.published_on.isoformat()
    if f.source.published_date_only:
        # made_at is midnight at the end of the publication day, local time.
        return (
            (f.made_at.astimezone(ZoneInfo(f.instrument.timezone_name)) - timedelta(seconds=1))
            .date()
            .isoformat()
        )
    return f.source.published_at.isoformat()


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


# Float fields of a forecast shown formatted on the change page (ForecastAdmin.<name>_shown); the
# stored `difficulty` is shown as "chance by luck", what it is.
_SHOWN = {
    "target": "target_shown",
    "target_upper": "target_upper_shown",
    "resolution_price": "resolution_price_shown",
    "baseline": "baseline_shown",
    "difficulty": "chance_by_luck_shown",
    "skill": "skill_shown",
    "window_return": "window_return_shown",
    "benchmark_return": "benchmark_return_shown",
}


def _shown_fields() -> list[str]:
    return [_SHOWN.get(f.name, f.name) for f in Forecast._meta.fields]


def _figure(value: float | None) -> str:
    """A price or level: thousands separators, at most four decimals, never -0."""
    if value is None:
        return "—"
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    pct = 0.0 if round(value * 100, 1) == 0 else value * 100
    return f"{pct:+.1f}%" if signed else f"{pct:.1f}%"
