"""The editor's desk: paste an article, review the suggested forecasts, save them with the source.

Two steps inside the admin. "Analyse" extracts the article's main text (from
HTML if given, or "Fetch" reads it from the article's URL: forecasts.editorial.fetching,
time-out and size limits, trafilatura), hashes it and asks forecasts.extraction
for candidates, each pre-filled and saying why it was suggested (cue, speaker
evidence, deadline phrase, confidence); only confident numeric suggestions with a
named person or firm come ticked. "Save" validates every accepted row and writes the source and its
forecasts in one transaction: one bad row and nothing is saved, with the error
shown on its row. Saving goes through forecasts.services.recording.record_source, the one
way in: the same rules, roles (an editor's forecasts are drafts, a reviewer's are
published), identity and duplicate flags as every other door.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from forecasts.editorial import fetching
from forecasts.models import Alias, DeadlineSource, Forecast, Kind
from forecasts.services import recording, sha256_text
from forecasts.services.recording import ForecastInput, RecordingRefused, SourceInput, record_source

MAX_ARTICLE_CHARS = 200_000
PRE_TICK_CONFIDENCE = (
    0.7  # Candidate.confidence at or above which a numeric, attributed suggestion comes ticked
)


def parse_published(value: str) -> date | datetime:
    """The recording service's parser, as a form field's clean (same rules, same words)."""
    errors = recording.FieldErrors()
    parsed = recording.parse_published(value, errors)
    if errors:
        raise ValidationError(errors["published"])
    return parsed


class ArticleForm(forms.Form):
    url = forms.CharField(
        max_length=1000,
        help_text=_('The article\'s absolute http(s) address. "Fetch the page" reads the article from it.'),
    )
    publication = forms.CharField(max_length=200)
    title = forms.CharField(max_length=500, required=False)
    published = forms.CharField(
        max_length=40, help_text=_("Date (2025-02-14) or time with offset (2025-02-14T16:10+08:00).")
    )
    language = forms.ChoiceField(
        choices=[("en", "English"), ("zh-hant", "Chinese (Traditional)"), ("zh", "Chinese")]
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}), required=False, help_text=_("Plain text...")
    )
    html = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text=_("...or the HTML.")
    )

    def clean_published(self):
        return parse_published(self.cleaned_data["published"])

    def clean(self):
        data = super().clean()
        text, html = (data.get("text") or "").strip(), (data.get("html") or "").strip()
        if not text and not html:
            raise ValidationError(_("Paste the article's text or its HTML."))
        if len(text) > MAX_ARTICLE_CHARS or len(html) > 5 * MAX_ARTICLE_CHARS:
            raise ValidationError(f"The article is too long (over {MAX_ARTICLE_CHARS:,} characters of text).")
        if not text:
            from forecasts.extraction import html_to_text

            text = (html_to_text(html) or "").strip()
            if not text:
                raise ValidationError(
                    _("No article text could be found in that HTML; paste the text instead.")
                )
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
    instrument = forms.CharField(max_length=64, required=False, help_text=_("Symbol or alias."))
    kind = forms.ChoiceField(choices=[("", "---------"), *Kind.choices], required=False)
    target = forms.FloatField(required=False)
    target_upper = forms.FloatField(required=False)
    other_instrument = forms.CharField(max_length=64, required=False)
    deadline = forms.DateField(required=False)
    deadline_source = forms.ChoiceField(choices=DeadlineSource.choices, initial=DeadlineSource.NONE)
    hedge = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"readonly": True}))
    confirm_reason = forms.CharField(
        max_length=1000,
        required=False,
        label=_("Confirm an implausible target (reviewers)"),
        help_text=_("Only when the article really states a target far from the market: say why."),
    )
    same_call_confirmed = forms.BooleanField(
        required=False,
        label=_("Not a duplicate"),
        help_text=_("Tick to save although a similar forecast exists."),
    )
    supersedes = forms.IntegerField(
        required=False,
        min_value=1,
        label=_("Revises forecast #"),
        help_text=_(
            "The id of the same strategist's earlier call on this instrument that this one revises "
            "(proposed when they have an open one); empty for a new call."
        ),
    )
    # Why the extractor suggested the row (display only, carried through a re-render; never saved).
    evidence = forms.CharField(required=False, widget=forms.HiddenInput)

    def why(self) -> dict | None:
        """The suggestion's evidence (cue, speaker, deadline phrase, confidence, notes), or None for a
        row added by hand."""
        raw = self["evidence"].value()
        try:
            why = json.loads(raw) if raw else None
        except (TypeError, ValueError):
            return None
        return why if isinstance(why, dict) else None

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


def _number(x: float) -> str:
    return f"{x:,.10g}"


def pre_ticked(c) -> bool:
    """Only confident numeric suggestions with a named person or firm come ticked: qualitative, group /
    consensus and unattributed ones wait for the editor."""
    return (
        c.confidence >= PRE_TICK_CONFIDENCE
        and c.kind != Kind.MANUAL
        and c.target is not None
        and bool(c.strategist or c.firm)
    )


def _suggested_strategist(c) -> tuple[str, str | None]:
    """The strategist field's prefill and, when it is not a person found in the text, a note saying so.
    The recording service needs a strategist name: a firm's house call is recorded as "<Firm> (strategists)"
    (the convention of forecasts/demo/forecasts.csv); a group or consensus is prefilled with its name."""
    if c.strategist:
        return c.strategist, None
    if c.firm:
        name = f"{c.firm} (strategists)"
        return name, f'No person named: strategist prefilled as "{name}" (the convention for a firm\'s call).'
    if c.group:
        return c.group, (
            "A group / consensus, no person: strategist prefilled with the group's name; "
            'name the poll or firm (e.g. "Reuters poll (strategists)") before accepting.'
        )
    return "", "No speaker found: fill in the strategist before accepting."


def _evidence(c, ticked: bool, note: str | None) -> dict:
    why = {
        "cue": c.cue or "",
        "speaker": c.speaker_evidence or "",
        "deadline_phrase": c.deadline_phrase or "",
        "confidence": f"{c.confidence:.2f}",
        "group": c.group or "",
        "superseded_target": _number(c.superseded_target) if c.superseded_target is not None else "",
        "ticked": ticked,
        "notes": [note] if note else [],
    }
    if not ticked:
        if c.kind == Kind.MANUAL or c.target is None:
            reason = "qualitative (no level)"
        elif not (c.strategist or c.firm):
            reason = "no person or firm named"
        else:
            reason = f"confidence under {PRE_TICK_CONFIDENCE:.1f}"
        why["notes"].append(f'Not pre-ticked: {reason}. Tick "accept" if the article supports it.')
    return why


def _initial_rows(text: str, published: date | datetime) -> list[dict]:
    from forecasts.extraction import extract_forecasts

    day = published if not isinstance(published, datetime) else published.date()
    rows = []
    for c in extract_forecasts(text, published=day, instruments=_instrument_aliases()):
        ticked = pre_ticked(c)
        strategist, note = _suggested_strategist(c)
        why = _evidence(c, ticked, note)
        revises = _proposed_revision(c, strategist, published, why)
        rows.append(
            {
                "accept": ticked,
                "strategist": strategist,
                "firm": c.firm or "",
                "quote": c.quote,
                "instrument": c.instrument or "",
                "kind": c.kind,
                "target": c.target,
                "target_upper": c.target_upper,
                "deadline": date.fromisoformat(c.deadline) if c.deadline else None,
                "deadline_source": c.deadline_source or DeadlineSource.NONE,
                "hedge": c.hedge or "",
                "supersedes": revises,
                "evidence": json.dumps(why, ensure_ascii=False),
            }
        )
    return rows


def _proposed_revision(c, strategist: str, published: date | datetime, why: dict) -> int | None:
    """The same strategist's open (pending) calls on the instrument, offered as what this one revises.

    The newest is preselected when the sentence reads as a revision ("raised to Y from X": the
    extractor's superseded_target), preferring the open call at X; otherwise they are offered in a
    note, for the editor to pick. Listed in why["open_calls"] either way."""
    if not strategist or not c.instrument:
        return None
    before = published if isinstance(published, datetime) else None
    calls = recording.open_calls_to_revise(strategist, c.instrument, before=before)
    if isinstance(published, date) and not isinstance(published, datetime):
        calls = [f for f in calls if f.made_at.date() <= published]
    if not calls:
        return None
    why["open_calls"] = [
        {
            "id": f.pk,
            "target": _number(f.target) if f.target is not None else "",
            "made": f"{f.made_at:%Y-%m-%d}",
        }
        for f in calls
    ]
    listed = "; ".join(
        f"#{f.pk} ({_number(f.target) if f.target is not None else f.kind}, {f.made_at:%Y-%m-%d})"
        for f in calls
    )
    if c.superseded_target is None:
        why["notes"].append(
            f"Open call(s) by the same strategist on this instrument: {listed}. "
            'If this call replaces one, put its id in "Revises forecast #".'
        )
        return None
    chosen = next((f for f in calls if f.target == c.superseded_target), calls[0])
    why["notes"].append(
        f'Revision: "Revises forecast #" is preselected with #{chosen.pk}, the same strategist\'s open call '
        f"(open: {listed}). Clear it if this is a separate call."
    )
    return chosen.pk


def _fetch(data) -> str | None:
    """Fetch the article at data["url"] into data (text, and title / publication / date when blank, from
    the page's metadata); the error message for the form, or None."""
    url = (data.get("url") or "").strip()
    if not url:
        return "Give the article's address to fetch it."
    try:
        page = fetching.fetch_page(
            url, allow_private=getattr(settings, "HINDSIGHT_DESK_FETCH_ALLOW_PRIVATE", False)
        )
    except fetching.FetchError as exc:
        return f"Could not fetch {url}: {exc}"
    from forecasts.extraction import html_to_text

    text = (html_to_text(page.html) or "").strip()
    if not text:
        return f"No article text could be found on {url}; paste the text instead."
    data["text"], data["html"] = text, ""  # ArticleForm refuses an over-long text
    meta = _page_metadata(page.html, page.final_url)
    for name in ("title", "publication", "published"):
        if not (data.get(name) or "").strip() and meta.get(name):
            data[name] = meta[name]
    return None


def _page_metadata(html: str, url: str) -> dict[str, str]:
    """Title, site name and date from the page (trafilatura), for the editor to check."""
    try:
        import trafilatura

        doc = trafilatura.extract_metadata(html, default_url=url, extensive=False)
    except Exception:  # metadata is a convenience: the text is what matters
        return {}
    if doc is None:
        return {}
    return {"title": doc.title or "", "publication": doc.sitename or "", "published": doc.date or ""}


def _analyse(request, context: dict, data) -> HttpResponse:
    article = ArticleForm(data)
    if not article.is_valid():
        return render(request, "admin/forecasts/desk.html", {**context, "article": article})
    cleaned = article.cleaned_data
    rows = _initial_rows(cleaned["article_text"], cleaned["published"])
    article = ArticleForm(initial={**data.dict(), "text": cleaned["article_text"], "html": ""})
    formset = CandidateFormSet(initial=rows, prefix="c")
    return render(
        request,
        "admin/forecasts/desk.html",
        {
            **context,
            "article": article,
            "formset": formset,
            "analysed": True,
            "sha256": sha256_text(cleaned["article_text"]),
            "found": len(rows),
            "ticked": sum(1 for r in rows if r["accept"]),
        },
    )


def desk_view(model_admin, request):
    """Step 1 (GET / "analyse" / "fetch") and step 2 ("save") of the editor's desk."""
    context = {**model_admin.admin_site.each_context(request), "title": _("Editor's desk: record an article")}
    if request.method == "POST" and "save" in request.POST:
        article = ArticleForm(request.POST)
        formset = CandidateFormSet(request.POST, prefix="c")
        if article.is_valid() and formset.is_valid():
            saved = _save(article.cleaned_data, formset, request.user)
            if saved is not None:
                new = [r.forecast.pk for r in saved if r.created]
                old = [r.forecast.pk for r in saved if not r.created]
                messages.success(
                    request, f"Saved {len(new)} new forecast(s) with the source; {len(old)} already recorded."
                )
                ids = ",".join(str(r.forecast.pk) for r in saved)
                existing = ",".join(str(pk) for pk in old)
                return redirect(
                    reverse("admin:forecasts_source_desk_done") + f"?ids={ids}&existing={existing}"
                )
        return render(
            request, "admin/forecasts/desk.html", {**context, "article": article, "formset": formset}
        )
    if request.method == "POST" and "fetch" in request.POST:
        data = request.POST.copy()
        error = _fetch(data)
        if error:
            article = ArticleForm(initial=data.dict())
            return render(
                request, "admin/forecasts/desk.html", {**context, "article": article, "fetch_error": error}
            )
        context["fetched"] = data["url"]
        return _analyse(request, context, data)
    if request.method == "POST":
        return _analyse(request, context, request.POST)
    return render(request, "admin/forecasts/desk.html", {**context, "article": ArticleForm()})


def desk_done_view(model_admin, request):
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()]
    existing = {int(i) for i in request.GET.get("existing", "").split(",") if i.isdigit()}
    forecasts = Forecast.all_objects.filter(pk__in=ids).select_related("strategist", "instrument", "source")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Saved forecasts"),
        "forecasts": forecasts,
        "existing": existing,
    }
    return render(request, "admin/forecasts/desk_done.html", context)


def _save(data: dict, formset, user) -> list[recording.Recorded] | None:
    """Record the source and every accepted row through the recording service, or nothing (each
    refusal attached to its row and field)."""
    accepted = [f for f in formset.forms if f.cleaned_data and f.cleaned_data.get("accept")]
    if not accepted:
        formset.forms[0].add_error(None, "Accept at least one forecast (or leave the page to save nothing).")
        return None
    source = SourceInput(
        url=data["url"],
        publication=data["publication"],
        title=data.get("title", ""),
        published=data["published"],
        language=data["language"],
        article_text=data["article_text"],
    )
    try:
        result = record_source(source, [_candidate(form.cleaned_data) for form in accepted], actor=user)
    except PermissionDenied as exc:
        formset.forms[0].add_error(None, str(exc))
        return None
    except RecordingRefused as exc:
        first = accepted[0]
        for name, messages_ in exc.source_errors.items():
            first.add_error(None, [f"{name}: {m}" for m in messages_])
        for i, item_errors in exc.forecast_errors.items():
            form = accepted[i]
            for name, messages_ in item_errors.items():
                form.add_error(name if name in form.fields else None, messages_)
        return None
    return result.items


def _candidate(d: dict) -> ForecastInput:
    return ForecastInput(
        strategist=d["strategist"],
        firm=d["firm"],
        quote=d["quote"],
        instrument=d["instrument"],
        kind=d["kind"],
        target=d["target"],
        target_upper=d["target_upper"],
        other_instrument=d["other_instrument"] or None,
        deadline=d["deadline"],
        deadline_source=d["deadline_source"] if d["deadline"] else DeadlineSource.NONE,
        not_duplicate=d["same_call_confirmed"],
        confirm_implausible=bool(d["confirm_reason"]),
        confirm_reason=d["confirm_reason"],
        supersedes=d.get("supersedes"),
    )
