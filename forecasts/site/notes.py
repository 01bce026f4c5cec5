"""Stored notes in the reader's language.

The scorer writes its notes in English (``Forecast.status_note``, ``Forecast.void_reason``, the reasons of
the history events) and they stay English in the database, the API and the ledger. A page shows them in
the reader's language: :func:`note_text` parses a stored note and renders it with a translated template;
text it does not recognise is returned unchanged, as is every note on an English page.

The patterns are not written by hand: each is derived from the note functions of
``forecasts.scoring.rules`` themselves. Every function is called with sentinel arguments (a distinct date,
number or marker per parameter, chosen from its signature; a bool or a Basis once per value) and the
output becomes a regular expression, each sentinel turned into a named group. A change of wording in
rules.py changes the patterns with it; a change of signature that the templates below no longer fit
raises :class:`NoteDesync` (tests/forecasts/site/test_notes.py fails on it, the site falls back to the
stored English).

The reasons written by the services (an editor's judgement or void, the "Quoted in …" of a new record,
the price-revision prefix of a rescore) and the outperform note single.py writes inline have no pure
function to call; their few patterns are written here, and the tests check that the code still writes
those words.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from forecasts.scoring import rules
from forecasts.site.presentation import _day

log = logging.getLogger(__name__)

NUM = r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"
DATE = r"\d{4}-\d{2}-\d{2}"
DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}(?::\d{2})?|Z)?"


class NoteDesync(RuntimeError):
    """rules.py writes a note the templates here do not fit (a parameter added, dropped or renamed)."""


# --- Templates ------------------------------------------------------------------------------------------
# Keyed by the note function and, for a parameter that changes the wording (a bool, the basis, a split),
# its value. The msgid is the English the function writes, with the parameters as placeholders.

TEMPLATES: dict[str, Promise] = {
    "note_not_yet_made": _("not yet made as of %(as_of)s"),
    "note_manual": _("manual claim: decided by an editor"),
    "note_no_session": _("void: no trading session between made_at and the deadline %(deadline)s"),
    "note_benchmark_no_session": _(
        "void: the benchmark has no trading session between made_at and the deadline %(deadline)s"
    ),
    "note_awaiting": _("awaiting data: no bar for %(missing)s"),
    "note_touched:cum=1": _("%(label)s %(price)s %(side)s %(threshold)s on %(day)s"),
    "note_touched:cum=split": _(
        "%(label)s %(price)s %(side)s %(threshold)s (split-adjusted from %(target)s) on %(day)s"
    ),
    "touch_level:up=True": _("at or above %(target)s"),
    "touch_level:up=False": _("at or below %(target)s"),
    "note_never_touched:basis=close": _(
        "never closed %(level)s in %(sessions)s sessions to %(last)s; best %(word)s %(best)s on %(day)s"
    ),
    "note_never_touched:basis=intraday": _(
        "never traded %(level)s in %(sessions)s sessions to %(last)s; best %(word)s %(best)s on %(day)s"
    ),
    "note_touch_pending": _("pending: not %(level)s so far; the window ends at the close of %(last)s"),
    "note_last_session_pending": _("pending: decided at the close of %(last)s"),
    "note_outperform_pending": _("pending: decided at the close of %(lasts)s"),
    "note_last_close:ok=True": _("closed at %(close)s on %(last)s: %(rule)s"),
    "note_last_close:ok=False": _("closed at %(close)s on %(last)s: not %(rule)s"),
    # judge_last_close: the rule in words, per kind (and with a split inside the window)
    "rule:close_above:cum=1": _("≥ %(threshold)s"),
    "rule:close_above:cum=split": _("≥ %(threshold)s (split-adjusted from %(nominal)s)"),
    "rule:close_below:cum=1": _("≤ %(threshold)s"),
    "rule:close_below:cum=split": _("≤ %(threshold)s (split-adjusted from %(nominal)s)"),
    "rule:range:cum=1": _("in [%(threshold)s, %(upper)s]"),
    "rule:range:cum=split": _("in [%(threshold)s, %(upper)s] (split-adjusted from %(nominal)s)"),
    "rule:direction_up:cum=1": _("> baseline %(baseline)s"),
    "rule:direction_up:cum=split": _("> baseline %(baseline)s"),
    "rule:direction_down:cum=1": _("< baseline %(baseline)s"),
    "rule:direction_down:cum=split": _("< baseline %(baseline)s"),
    # automatic_void: its two reasons
    "automatic_void:stopped": _(
        "void: instrument stopped trading on %(trading_ended_on)s, before the last window session %(last)s"
    ),
    "automatic_void:missing": _(
        "void: bars still missing %(sessions)s sessions after the deadline (%(missing)s)"
    ),
}

#: The words the scorers pass to the note functions as text (forecasts/scoring/single.py and bulk.py).
WORDS: dict[str, dict[str, Promise | None]] = {
    "label": {
        "closed at": pgettext_lazy("scoring note", "closed at"),
        "high": pgettext_lazy("scoring note: the day's", "high"),
        "low": pgettext_lazy("scoring note: the day's", "low"),
    },
    "word": {
        "close": pgettext_lazy("scoring note: best", "close"),
        "high": pgettext_lazy("scoring note: best", "high"),
        "low": pgettext_lazy("scoring note: best", "low"),
    },
    "side": {"≥": None, "≤": None},
}

MORE = _("%(dates)s and %(n)s more")
LIST_SEPARATOR = pgettext_lazy("between dates in a list", ", ")

# Written by the services (no pure function to derive them from).
SERVICE_TEMPLATES: dict[str, Promise] = {
    "judged": _("Judged by an editor: %(reason)s"),
    "editor_void": _("Editor: %(reason)s"),
    "void": pgettext_lazy("void reason", "void"),
    "quoted": _("Quoted in %(publication)s, %(url)s"),
    "held": _("Held for review: possibly the same call as #%(pk)s."),
    "revises": _("Revises #%(pk)s."),
    "separate": _(
        "Recorded as a separate call although similar to %(pks)s (the editor said it is not a duplicate)."
    ),
    "revised": _("Price bars that decided it were revised: %(parts)s."),
    "revised_part": _("%(session)s close %(old)s → %(new)s (%(old_source)s → %(new_source)s)"),
    "revised_none": _("Price bars that decided it were revised."),
    # written inline by forecasts/scoring/single.py (_decide_outperform), not by a rules.py function
    "outperform": _("return %(a)s to %(a_last)s %(cmp)s benchmark %(b)s to %(b_last)s"),
}


# --- Deriving the patterns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One parameter's sentinel in a note: its text, the group's regex, and how to render the group."""

    text: str
    regex: str
    kind: str  # num | int | date | datetime | dates | text | level | rule | label | word | side


@dataclass
class Shape:
    key: str
    regex: str  # with named groups
    bare: str  # the same without group names, to nest inside another pattern
    kinds: dict[str, str]
    example: str = ""
    compiled: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = re.compile(self.regex)


class _Sentinels:
    """Distinct values, one per parameter, whose text cannot be mistaken for another's."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def date(self) -> date:
        return date(2101, 1, 1) + timedelta(days=37 * next(self._n))

    def datetime(self) -> datetime:
        n = next(self._n)
        return datetime(2102, 1, 1, 3, 4, 5, tzinfo=UTC) + timedelta(days=41 * n, minutes=n)

    def float(self) -> float:
        return 700_000 + 1_111.25 * next(self._n)

    def int(self) -> int:
        return 8_000 + 97 * next(self._n)


def _shape(key: str, text: str, slots: dict[str, Slot], example: str = "") -> Shape:
    """The pattern of `text`, every slot's sentinel (at most once each) a group named after its slot."""
    found = []
    for name, slot in slots.items():
        count = text.count(slot.text)
        if count > 1:
            raise NoteDesync(
                f"{key}: the sentinel of {name!r} ({slot.text!r}) occurs {count} times in {text!r}"
            )
        if count:
            found.append((text.index(slot.text), name, slot))
    found.sort(key=lambda x: x[0])
    named, bare, kinds, at = [], [], {}, 0
    for pos, name, slot in found:
        if pos < at:
            raise NoteDesync(f"{key}: sentinels overlap in {text!r}")
        literal = re.escape(text[at:pos])
        named.append(f"{literal}(?P<{name}>{slot.regex})")
        bare.append(f"{literal}(?:{slot.regex})")
        kinds[name] = slot.kind
        at = pos + len(slot.text)
    tail = re.escape(text[at:])
    return Shape(key, "".join(named) + tail, "".join(bare) + tail, kinds, example or text)


def _alternation(shapes: Iterable[Shape]) -> str:
    return "|".join(f"(?:{s.bare})" for s in shapes)


def _dates_regex(joined: str) -> str:
    """A list of dates written like `joined` (two dates and what separates them), of any length, with the
    "and N more" of rules.list_dates when it is too long to show whole."""
    sep = joined[len("2101-01-01") : -len("2101-01-01")]
    days = [date(2101, 1, 1) + timedelta(days=i) for i in range(5)]
    first3 = rules.list_dates(days[:3], limit=3)
    more = re.escape(rules.list_dates(days, limit=3)[len(first3) :]).replace("2", r"\d+", 1)
    return rf"{DATE}(?:{re.escape(sep)}{DATE})*(?:{more})?"


def _levels() -> list[Shape]:
    s = _Sentinels()
    target = s.float()
    slot = {"target": Slot(rules.fmt(target), NUM, "num")}
    return [_shape(f"touch_level:up={up}", rules.touch_level(up, target), slot) for up in (True, False)]


def _rules_in_words() -> list[Shape]:
    """judge_last_close's rule for each last-session kind, without and with a split in the window."""
    s = _Sentinels()
    low, high, base = s.float(), s.float(), s.float()
    made_at = datetime(2101, 1, 1, tzinfo=UTC)
    shapes = []
    for kind in sorted(rules.LAST_SESSION_KINDS):
        for cum, variant in ((1.0, "1"), (2.0, "split")):
            claim = rules.Claim(kind, made_at, target=low * cum, target_upper=high * cum)
            _ok, rule = rules.judge_last_close(claim, base, base * cum, cum)
            slots = {
                "threshold": Slot(rules.fmt(low), NUM, "num"),
                "upper": Slot(rules.fmt(high), NUM, "num"),
                "baseline": Slot(rules.fmt(base), NUM, "num"),
            }
            if cum != 1.0:
                slots["nominal"] = Slot(rules.fmt(low * cum), NUM, "num")
            shapes.append(_shape(f"rule:{kind.value}:cum={variant}", rule, slots))
    return shapes


def _param_slots(fn: Callable, sentinels: _Sentinels, subpatterns: dict[str, str]):
    """For each parameter of a note function: the values to call it with (several for a bool, the basis or
    a split ratio) and the slot its text fills."""
    choices: dict[str, list[tuple[str, object]]] = {}
    slots: dict[str, Slot] = {}
    for name, param in inspect.signature(fn).parameters.items():
        ann = str(param.annotation).replace(" ", "")
        if ann == "bool":
            choices[name] = [(str(v), v) for v in (True, False)]
        elif ann == "Basis":
            choices[name] = [(b.value, b) for b in rules.Basis]
        elif name == "cum":
            choices[name] = [("1", 1.0), ("split", 2.0)]
        elif ann == "date":
            d = sentinels.date()
            choices[name] = [("", d)]
            slots[name] = Slot(d.isoformat(), DATE, "date")
        elif ann == "datetime":
            t = sentinels.datetime()
            choices[name] = [("", t)]
            slots[name] = Slot(t.isoformat(), DATETIME, "datetime")
        elif ann == "float":
            x = sentinels.float()
            choices[name] = [("", x)]
            slots[name] = Slot(rules.fmt(x), NUM, "num")
        elif ann == "int":
            i = sentinels.int()
            choices[name] = [("", i)]
            slots[name] = Slot(str(i), r"\d+", "int")
        elif ann == "Sequence[date]":
            days = tuple(sentinels.date() for _ in range(2))
            choices[name] = [("", days)]
            slots[name] = Slot("", "", "dates")  # text and pattern filled in once called
        elif ann == "str" and name in subpatterns:
            marker = f"\ue000{name}\ue001"
            choices[name] = [("", marker)]
            slots[name] = Slot(marker, subpatterns[name], name)
        else:
            raise NoteDesync(f"{fn.__name__}: no sentinel for parameter {name}: {ann}")
    return choices, slots


def _note_functions() -> list[Callable]:
    return [fn for name, fn in inspect.getmembers(rules, inspect.isfunction) if name.startswith("note_")]


def _derive_function(fn: Callable, subpatterns: dict[str, str]) -> list[Shape]:
    choices, slots = _param_slots(fn, _Sentinels(), subpatterns)
    names = list(choices)
    shapes = []
    for combo in itertools.product(*(choices[n] for n in names)):
        args = {n: value for n, (_label, value) in zip(names, combo, strict=True)}
        variant = ",".join(f"{n}={label}" for n, (label, _v) in zip(names, combo, strict=True) if label)
        key = fn.__name__ + (f":{variant}" if variant else "")
        call_slots = dict(slots)
        for n, slot in slots.items():
            if slot.kind == "dates":
                days = args[n]
                assert isinstance(days, tuple)
                joined = _joined_dates(fn, args, n, days)
                call_slots[n] = Slot(joined, _dates_regex(joined), "dates")
        shapes.append(_shape(key, fn(**args), call_slots, _example(fn, args)))
    return shapes


def _joined_dates(fn: Callable, args: dict, name: str, days: tuple[date, ...]) -> str:
    """How `fn` writes the sequence `days`: the text from the first date to the last."""
    text = fn(**args)
    first, last = days[0].isoformat(), days[-1].isoformat()
    if first not in text or last not in text:
        raise NoteDesync(f"{fn.__name__}: the dates of {name!r} are not in {text!r}")
    return text[text.index(first) : text.index(last) + len(last)]


def _example(fn: Callable, args: dict) -> str:
    """The note with plausible values (for the tests: what a reader would see)."""
    real: dict[str, object] = {}
    for n, v in args.items():
        if isinstance(v, str) and v.startswith("\ue000"):
            real[n] = {
                "level": rules.touch_level(True, 23_200),
                "rule": "≥ 23,200",
                "label": "closed at",
                "word": "close",
                "side": "≥",
            }[n]
        elif isinstance(v, datetime):
            real[n] = datetime(2025, 2, 14, 16, 0, tzinfo=UTC)
        elif isinstance(v, date):
            real[n] = date(2025, 12, 31)
        elif isinstance(v, tuple):
            real[n] = (date(2025, 12, 30), date(2025, 12, 31))
        elif isinstance(v, float) and n != "cum":
            real[n] = 23_477.92
        elif isinstance(v, int) and not isinstance(v, bool):
            real[n] = 250
        else:
            real[n] = v
    return fn(**real)


def _derive_void() -> list[Shape]:
    s = _Sentinels()
    ended, last, complete, cutoff = s.date(), s.date(), s.date(), s.date()
    last, complete = max(last, complete), max(last, complete) + timedelta(days=1)
    ended = min(ended, last - timedelta(days=1))
    stopped = rules.automatic_void(
        trading_ended_on=ended,
        last=last,
        complete_through=complete,
        awaiting=False,
        cutoff_passed=False,
        cutoff=None,
        missing=(),
    )
    missing_days = (s.date(), s.date())
    missing = rules.automatic_void(
        trading_ended_on=None,
        last=last,
        complete_through=complete,
        awaiting=True,
        cutoff_passed=True,
        cutoff=cutoff,
        missing=missing_days,
    )
    if stopped is None or missing is None:
        raise NoteDesync("automatic_void no longer voids on the sentinel arguments")
    joined = rules.list_dates(missing_days)
    dates = _dates_regex(joined)
    count = f" {rules.VOID_AFTER_SESSIONS} "
    text = missing[0]
    if text.count(count) != 1:
        raise NoteDesync(f"automatic_void: VOID_AFTER_SESSIONS not found once in {text!r}")
    at = text.index(count)
    return [
        _shape(
            "automatic_void:stopped",
            stopped[0],
            {
                "trading_ended_on": Slot(ended.isoformat(), DATE, "date"),
                "last": Slot(last.isoformat(), DATE, "date"),
            },
        ),
        _shape(
            "automatic_void:missing",
            text,
            {
                "sessions": Slot(text[at : at + len(count)], r" \d+ ", "padded_int"),
                "missing": Slot(joined, dates, "dates"),
            },
        ),
    ]


@dataclass
class Catalog:
    """Every derived shape: the notes (matched whole) and the parts they nest (levels, rules)."""

    notes: list[Shape]
    parts: dict[str, list[Shape]]


@functools.cache
def catalog() -> Catalog:
    """The patterns, derived once per process from rules.py. Raises NoteDesync when they do not fit."""
    levels, rule_words = _levels(), _rules_in_words()
    subpatterns = {
        "level": _alternation(levels),
        "rule": _alternation(rule_words),
        **{name: "|".join(re.escape(w) for w in words) for name, words in WORDS.items()},
    }
    notes = [shape for fn in _note_functions() for shape in _derive_function(fn, subpatterns)]
    notes += _derive_void()
    all_shapes = notes + levels + rule_words
    for shape in all_shapes:
        template = TEMPLATES.get(shape.key)
        if template is None:
            raise NoteDesync(f"no translated template for the note {shape.key!r}: {shape.example!r}")
        wanted = set(re.findall(r"%\((\w+)\)s", str(template)))
        if wanted != set(shape.kinds):
            raise NoteDesync(
                f"{shape.key}: the template takes {sorted(wanted)}, the note has {sorted(shape.kinds)}"
            )
    return Catalog(notes, {"level": levels, "rule": rule_words})


# --- Rendering ------------------------------------------------------------------------------------------


def _render_dates(text: str) -> str:
    days = [_day(date.fromisoformat(d)) for d in re.findall(DATE, text)]
    listed = str(LIST_SEPARATOR).join(days)
    rest = text[text.rindex(re.findall(DATE, text)[-1]) + 10 :]
    more = re.search(r"\d+", rest)
    return str(MORE) % {"dates": listed, "n": more.group(0)} if more else listed


def _render_value(kind: str, value: str, cat: Catalog) -> str:
    if kind == "date":
        return _day(date.fromisoformat(value))
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        return f"{_day(moment.date())} {moment:%H:%M}"
    if kind == "dates":
        return _render_dates(value)
    if kind == "padded_int":
        return value.strip()
    if kind in cat.parts:
        for shape in cat.parts[kind]:
            if m := shape.compiled.fullmatch(value):
                return _render(shape, m, cat)
        raise ValueError(value)
    if kind in WORDS:
        word = WORDS[kind][value]
        return value if word is None else str(word)
    return value


def _render(shape: Shape, m: re.Match[str], cat: Catalog) -> str:
    values = {name: _render_value(kind, m.group(name), cat) for name, kind in shape.kinds.items()}
    return str(TEMPLATES[shape.key]) % values


def _scorer_note(text: str) -> str | None:
    cat = catalog()
    for shape in cat.notes:
        if m := shape.compiled.fullmatch(text):
            return _render(shape, m, cat)
    return None


_OUTPERFORM = re.compile(
    rf"return (?P<a>[-+]\d+(?:\.\d+)?%) to (?P<a_last>{DATE}) (?P<cmp>>|≤) "
    rf"benchmark (?P<b>[-+]\d+(?:\.\d+)?%) to (?P<b_last>{DATE})"
)
_JUDGED = re.compile(r"Judged by an editor: (?P<reason>.*)", re.S)
_EDITOR_VOID = re.compile(r"Editor: (?P<reason>.*)", re.S)
_QUOTED = re.compile(r"Quoted in (?P<publication>.+?), (?P<url>\S+)(?P<rest>(?: .*)?)", re.S)
_HELD = re.compile(r" Held for review: possibly the same call as #(?P<pk>\d+)\.")
_REVISES = re.compile(r" Revises #(?P<pk>\d+)\.")
_SEPARATE = re.compile(
    r" ?Recorded as a separate call although similar to (?P<pks>#\d+(?:, #\d+)*) "
    r"\(the editor said it is not a duplicate\)\."
)
_REVISED = re.compile(r"Price bars that decided it were revised: (?P<parts>.+?)\. (?P<rest>.*)", re.S)
_REVISED_NONE = re.compile(r"Price bars that decided it were revised\. (?P<rest>.*)", re.S)
_REVISED_PART = re.compile(
    rf"(?P<session>{DATE}) close (?P<old>\S+) → (?P<new>\S+) "
    r"\((?P<old_source>[^()]*) → (?P<new_source>[^()]*)\)"
)


def _service_text(text: str) -> str | None:
    t = SERVICE_TEMPLATES
    if text == "void":
        return str(t["void"])
    if m := _OUTPERFORM.fullmatch(text):
        days = {k: _day(date.fromisoformat(m[k])) for k in ("a_last", "b_last")}
        return str(t["outperform"]) % {**m.groupdict(), **days}
    if m := _JUDGED.fullmatch(text):
        return str(t["judged"]) % m.groupdict()
    if m := _EDITOR_VOID.fullmatch(text):
        return str(t["editor_void"]) % m.groupdict()
    if m := _QUOTED.fullmatch(text):
        out = [str(t["quoted"]) % {"publication": m["publication"], "url": m["url"]}]
        rest = m["rest"]
        for pattern, key in ((_HELD, "held"), (_REVISES, "revises"), (_SEPARATE, "separate")):
            if found := pattern.match(rest):
                out.append(str(t[key]) % found.groupdict())
                rest = rest[found.end() :]
        if rest.strip():
            return None
        return " ".join(out)
    if m := _REVISED.fullmatch(text):
        parts = []
        for part in m["parts"].split("; "):
            p = _REVISED_PART.fullmatch(part)
            if p is None:
                return None
            parts.append(
                str(t["revised_part"]) % {**p.groupdict(), "session": _day(date.fromisoformat(p["session"]))}
            )
        head = str(t["revised"]) % {"parts": str(LIST_SEPARATOR).join(parts)}
        rest = _translate(m["rest"]) if m["rest"] else ""
        return None if rest is None else f"{head} {rest}".strip()
    if m := _REVISED_NONE.fullmatch(text):
        rest = _translate(m["rest"]) if m["rest"] else ""
        return None if rest is None else f"{t['revised_none']} {rest}".strip()
    return None


def _translate(text: str) -> str | None:
    return _scorer_note(text) or _service_text(text)


def note_text(text: str | None) -> str:
    """A stored note, void reason or history reason in the active language (English: unchanged)."""
    if not text:
        return text or ""
    if (get_language() or "en").split("-")[0] == "en":
        return text
    try:
        return _translate(text) or text
    except (NoteDesync, ValueError, KeyError) as exc:  # a desync the tests catch: show the English
        log.warning("note not translated (%s): %r", exc, text)
        return text
