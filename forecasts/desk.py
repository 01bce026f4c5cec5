"""The editor's desk: paste an article, review the suggested forecasts, save them with the source.

Two steps inside the admin. "Analyse" extracts the article's main text (from
HTML if given), hashes it and asks forecasts.extraction for candidates, each
pre-filled. "Save" validates every accepted row and writes the source and its
forecasts in one transaction: one bad row and nothing is saved, with the error
shown on its row. Reviewers' forecasts are published at once; editors' wait
for a reviewer.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from forecasts import services
from forecasts.models import Alias, DeadlineSource, Forecast, Kind
from forecasts.tasks import enqueue_scoring

MAX_ARTICLE_CHARS = 200_000


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_published(value: str) -> date | datetime:
    value = value.strip()
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError("Not a date: use YYYY-MM-DD.") from exc
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError("Use a date (2025-02-14) or a time with its offset (2025-02-14T16:10+08:00).")
    if parsed.tzinfo is None:
        raise ValidationError("A time needs its UTC offset, e.g. 2025-02-14T16:10+08:00.")
    return parsed


class ArticleForm(forms.Form):
    url = forms.URLField(max_length=1000, assume_scheme="https")
    publication = forms.CharField(max_length=200)
    title = forms.CharField(max_length=500, required=False)
    published = forms.CharField(
        max_length=40, help_text="Date (2025-02-14) or time with offset (2025-02-14T16:10+08:00)."
    )
    language = forms.ChoiceField(
        choices=[("en", "English"), ("zh-hant", "Chinese (Traditional)"), ("zh", "Chinese")]
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}), required=False, help_text="Plain text..."
    )
    html = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="...or the HTML."
    )

    def clean_published(self):
        return parse_published(self.cleaned_data["published"])

    def clean(self):
        data = super().clean()
        text, html = (data.get("text") or "").strip(), (data.get("html") or "").strip()
        if not text and not html:
            raise ValidationError("Paste the article's text or its HTML.")
        if len(text) > MAX_ARTICLE_CHARS or len(html) > 5 * MAX_ARTICLE_CHARS:
            raise ValidationError(f"The article is too long (over {MAX_ARTICLE_CHARS:,} characters of text).")
        if not text:
            from forecasts.extraction import html_to_text

            text = (html_to_text(html) or "").strip()
            if not text:
                raise ValidationError("No article text could be found in that HTML; paste the text instead.")
        data["article_text"] = text
        return data


class CandidateForm(forms.Form):
    # Suggestions come ticked (their initial data says so); the blank row for a hand-added forecast does not.
    accept = forms.BooleanField(required=False, initial=False)
    strategist = forms.CharField(max_length=200, required=False)
    firm = forms.CharField(max_length=200, required=False)
    quote = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), max_length=2000, required=False
    )
    instrument = forms.CharField(max_length=64, required=False, help_text="Symbol or alias.")
    kind = forms.ChoiceField(choices=[("", "---------"), *Kind.choices], required=False)
    target = forms.FloatField(required=False)
    target_upper = forms.FloatField(required=False)
    other_instrument = forms.CharField(max_length=64, required=False)
    deadline = forms.DateField(required=False)
    deadline_source = forms.ChoiceField(choices=DeadlineSource.choices, initial=DeadlineSource.NONE)
    hedge = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"readonly": True}))
    same_call_confirmed = forms.BooleanField(
        required=False, label="Not a duplicate", help_text="Tick to save although a similar forecast exists."
    )

    def clean(self):
        data = super().clean()
        if data.get("accept"):
            for name in ("strategist", "quote", "instrument", "kind"):
                if not data.get(name):
                    self.add_error(name, "Required for an accepted forecast.")
        return data


CandidateFormSet = forms.formset_factory(CandidateForm, extra=1, max_num=50, validate_max=True)


def _instrument_aliases() -> dict[str, str]:
    return dict(
        Alias.objects.filter(target=Alias.Target.INSTRUMENT).values_list("name", "instrument__symbol")
    )


def _initial_rows(text: str, published: date | datetime) -> list[dict]:
    from forecasts.extraction import extract_forecasts

    day = published if not isinstance(published, datetime) else published.date()
    rows = []
    for c in extract_forecasts(text, published=day, instruments=_instrument_aliases()):
        rows.append(
            {
                "accept": True,
                "strategist": c.strategist or "",
                "firm": c.firm or "",
                "quote": c.quote,
                "instrument": c.instrument or "",
                "kind": c.kind,
                "target": c.target,
                "target_upper": c.target_upper,
                "deadline": date.fromisoformat(c.deadline) if c.deadline else None,
                "deadline_source": c.deadline_source or DeadlineSource.NONE,
                "hedge": c.hedge or "",
            }
        )
    return rows


def desk_view(model_admin, request):
    """Step 1 (GET / "analyse") and step 2 ("save") of the editor's desk."""
    context = {**model_admin.admin_site.each_context(request), "title": "Editor's desk: record an article"}
    if request.method == "POST" and "save" in request.POST:
        article = ArticleForm(request.POST)
        formset = CandidateFormSet(request.POST, prefix="c")
        if article.is_valid() and formset.is_valid():
            saved = _save(article.cleaned_data, formset, request.user)
            if saved is not None:
                messages.success(request, f"Saved {len(saved)} forecast(s) with the source.")
                ids = ",".join(str(f.pk) for f in saved)
                return redirect(reverse("admin:forecasts_source_desk_done") + f"?ids={ids}")
        return render(
            request, "admin/forecasts/desk.html", {**context, "article": article, "formset": formset}
        )
    if request.method == "POST":
        article = ArticleForm(request.POST)
        if article.is_valid():
            data = article.cleaned_data
            rows = _initial_rows(data["article_text"], data["published"])
            article = ArticleForm(initial={**request.POST.dict(), "text": data["article_text"], "html": ""})
            formset = CandidateFormSet(initial=rows, prefix="c")
            return render(
                request,
                "admin/forecasts/desk.html",
                {
                    **context,
                    "article": article,
                    "formset": formset,
                    "analysed": True,
                    "sha256": sha256_text(data["article_text"]),
                    "found": len(rows),
                },
            )
        return render(request, "admin/forecasts/desk.html", {**context, "article": article})
    return render(request, "admin/forecasts/desk.html", {**context, "article": ArticleForm()})


def desk_done_view(model_admin, request):
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()]
    forecasts = Forecast.all_objects.filter(pk__in=ids).select_related("strategist", "instrument", "source")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Saved forecasts",
        "forecasts": forecasts,
    }
    return render(request, "admin/forecasts/desk_done.html", context)


def _save(data: dict, formset, user) -> list[Forecast] | None:
    """Write the source and every accepted row, or nothing (errors attached to the rows)."""
    accepted = [f for f in formset.forms if f.cleaned_data and f.cleaned_data.get("accept")]
    if not accepted:
        formset.forms[0].add_error(None, "Accept at least one forecast (or leave the page to save nothing).")
        return None
    publish = user.has_perm("forecasts.publish_forecast")
    saved: list[Forecast] = []
    failed = False
    try:
        with transaction.atomic():
            text = data["article_text"]
            probe_instrument = None
            for form in accepted:
                probe_instrument = services.instrument_by_name(form.cleaned_data["instrument"] or "")
                if probe_instrument:
                    break
            tz_name = probe_instrument.timezone_name if probe_instrument else "UTC"
            source, _ = services.source_get_or_create(
                url=data["url"],
                publication=data["publication"],
                title=data.get("title", ""),
                published=data["published"],
                tz_name=tz_name,
                language=data["language"],
                article_text=text,
            )
            if not source.text_sha256:
                source.text_sha256 = sha256_text(source.article_text or text)
                source.created_by = source.created_by or user
                source.save(update_fields=["text_sha256", "created_by"])
            for form in accepted:
                forecast = _save_row(form, source, data["published"], user, publish)
                if forecast is None:
                    failed = True
                else:
                    saved.append(forecast)
            if failed:
                raise _RowErrors
    except _RowErrors:
        return None
    except ValidationError as exc:
        formset.forms[0].add_error(None, exc)
        return None
    for instrument_id in {f.instrument_id for f in saved if f.kind != Kind.MANUAL}:
        enqueue_scoring(instrument_id)
    return saved


class _RowErrors(Exception):
    pass


def _save_row(form, source, published, user, publish: bool) -> Forecast | None:
    d = form.cleaned_data
    instrument = services.instrument_by_name(d["instrument"] or "")
    if instrument is None:
        add_url = reverse("admin:marketdata_instrument_add") + f"?symbol={d['instrument']}"
        form.add_error(
            "instrument",
            f"Unknown instrument {d['instrument']!r}. Create it first ({add_url}) "
            "or use a known symbol or alias.",
        )
        return None
    other = services.instrument_by_name(d["other_instrument"]) if d["other_instrument"] else None
    if d["other_instrument"] and other is None:
        form.add_error("other_instrument", f"Unknown instrument {d['other_instrument']!r}.")
        return None
    made_at = (
        published
        if isinstance(published, datetime)
        else services.end_of_day(published, instrument.timezone_name)
    )
    try:
        firm = services.firm_get_or_create(d["firm"])
        strategist = services.strategist_get_or_create(d["strategist"], firm=firm)
        same = Forecast.all_objects.filter(
            source=source,
            strategist=strategist,
            instrument=instrument,
            kind=d["kind"],
            quote=d["quote"].strip(),
        ).first()
        if same:
            form.add_error("quote", f"This quote is already recorded from this source as #{same.pk}.")
            return None
        if not d["same_call_confirmed"]:
            dupes = services.likely_duplicates(
                strategist=strategist,
                instrument=instrument,
                kind=d["kind"],
                target=d["target"],
                made_at=made_at,
            )
            if dupes:
                form.add_error(
                    "same_call_confirmed",
                    "Looks like a forecast already recorded: "
                    + "; ".join(
                        f"#{f.pk} {f.source.publication} {f.made_at:%Y-%m-%d} target {f.target}"
                        for f in dupes
                    )
                    + ". Tick 'Not a duplicate' to save anyway.",
                )
                return None
        deadline_source = d["deadline_source"] if d["deadline"] else DeadlineSource.NONE
        with transaction.atomic():
            return services.forecast_create(
                strategist=strategist,
                firm=firm,
                source=source,
                quote=d["quote"],
                instrument=instrument,
                kind=d["kind"],
                target=d["target"],
                target_upper=d["target_upper"],
                other_instrument=other,
                deadline=d["deadline"],
                deadline_source=deadline_source,
                made_at=made_at,
                actor=user,
                publish=publish,
            )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None
