"""Editors' admin. Forecasts are created here like any model, but their score
fields are read-only (the scorer owns them), and corrections, voids and
judgements go through actions that ask for a reason and write history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone

from forecasts import services
from forecasts.models import Firm, Forecast, ForecastEvent, Kind, Source, Status, Strategist

SCORE_READONLY = [
    "status",
    "status_note",
    "awaiting_data",
    "resolved_on",
    "resolution_price",
    "baseline",
    "baseline_date",
    "window_start",
    "window_end",
    "window_sessions",
    "difficulty",
    "skill",
    "scorer_version",
    "scored_at",
    "void_reason",
]


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Strategist)
class StrategistAdmin(admin.ModelAdmin):
    list_display = ["name", "firm", "title", "slug"]
    list_filter = ["firm"]
    search_fields = ["name", "firm__name"]
    autocomplete_fields = ["firm"]
    prepopulated_fields = {"slug": ["name"]}


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
class SourceAdmin(admin.ModelAdmin):
    list_display = ["publication", "title", "published_at", "language", "url"]
    list_filter = ["publication", "language"]
    search_fields = ["title", "url", "publication"]
    date_hierarchy = "published_at"
    inlines = [ForecastInline]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea, required=True, help_text="Shown on the public forecast page."
    )


class JudgeForm(ReasonForm):
    outcome = forms.ChoiceField(choices=[(Status.HIT, "Hit"), (Status.MISS, "Miss")])
    resolved_on = forms.DateField(help_text="The date the claim was decided (YYYY-MM-DD).")


class ForecastEventInline(admin.TabularInline):
    model = ForecastEvent
    fields = ["at", "action", "actor", "changes", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ForecastAdminForm(forms.ModelForm):
    class Meta:
        model = Forecast
        fields = [
            "strategist",
            "firm",
            "source",
            "quote",
            "instrument",
            "kind",
            "target",
            "target_upper",
            "other_instrument",
            "basis",
            "made_at",
            "deadline",
            "deadline_source",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        try:
            services.validate_claim(
                kind=data.get("kind"),
                target=data.get("target"),
                target_upper=data.get("target_upper"),
                instrument=data.get("instrument"),
                other_instrument=data.get("other_instrument"),
                basis=data.get("basis") or "close",
                made_at=data.get("made_at") or timezone.now(),
                deadline=data.get("deadline") if data.get("deadline_source") != "none" else None,
                deadline_source=data.get("deadline_source") or "none",
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    form = ForecastAdminForm
    list_display = [
        "id",
        "strategist",
        "instrument",
        "kind",
        "target",
        "deadline",
        "status",
        "resolved_on",
        "skill",
    ]
    list_filter = ["status", "kind", "deadline_source", "instrument"]
    search_fields = ["quote", "strategist__name", "instrument__symbol", "source__url"]
    autocomplete_fields = ["strategist", "firm", "source", "instrument", "other_instrument"]
    list_select_related = ["strategist", "instrument"]
    date_hierarchy = "made_at"
    inlines = [ForecastEventInline]
    actions = ["void_selected", "judge_selected"]

    fields = ForecastAdminForm.Meta.fields

    def get_fields(self, request, obj=None):
        # The add form asks for the claim; the change page shows the claim and its score, all read-only.
        return self.fields if obj is None else [f.name for f in Forecast._meta.fields]

    def get_readonly_fields(self, request, obj=None):
        # Once recorded, the claim is changed only through a correction with a reason.
        if obj is not None:
            return [f.name for f in Forecast._meta.fields]
        return SCORE_READONLY

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        created = services.forecast_create(
            strategist=data["strategist"],
            source=data["source"],
            quote=data["quote"],
            instrument=data["instrument"],
            kind=data["kind"],
            target=data.get("target"),
            target_upper=data.get("target_upper"),
            other_instrument=data.get("other_instrument"),
            basis=data.get("basis"),
            made_at=data.get("made_at"),
            firm=data.get("firm"),
            deadline=data.get("deadline") if data.get("deadline_source") != "none" else None,
            deadline_source=data.get("deadline_source"),
            actor=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        if created.kind != Kind.MANUAL:
            services.score_instrument_forecasts(created.instrument)

    @admin.action(description="Void selected forecasts (asks for a reason)")
    def void_selected(self, request, queryset):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                for forecast in queryset:
                    services.forecast_void(forecast, reason=form.cleaned_data["reason"], actor=request.user)
                self.message_user(request, f"Voided {queryset.count()} forecast(s).", messages.SUCCESS)
                return None
        else:
            form = ReasonForm()
        return render(
            request,
            "admin/forecasts/reason_form.html",
            {"form": form, "forecasts": queryset, "action": "void_selected", "title": "Void forecasts"},
        )

    @admin.action(description="Judge selected qualitative forecasts (asks for outcome and reason)")
    def judge_selected(self, request, queryset):
        if "apply" in request.POST:
            form = JudgeForm(request.POST)
            if form.is_valid():
                try:
                    for forecast in queryset:
                        services.forecast_judge(
                            forecast,
                            outcome=form.cleaned_data["outcome"],
                            reason=form.cleaned_data["reason"],
                            resolved_on=form.cleaned_data["resolved_on"],
                            actor=request.user,
                        )
                except ValidationError as exc:
                    self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                    return None
                self.message_user(request, f"Judged {queryset.count()} forecast(s).", messages.SUCCESS)
                return None
        else:
            form = JudgeForm()
        return render(
            request,
            "admin/forecasts/reason_form.html",
            {"form": form, "forecasts": queryset, "action": "judge_selected", "title": "Judge forecasts"},
        )
