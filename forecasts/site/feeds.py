"""Atom feed of resolutions: each forecast as it is decided (hit, miss) or voided.

The feed also carries the signed ledger head (forecasts/ledger.py): as a `hindsight:ledgerHead` element of
the feed and as its first entry, whose summary is the head's JSON as /ledger/head.json serves it, so a feed
reader that archives entries keeps a head to check the record against later.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from forecasts import ledger
from forecasts.selectors import pages
from forecasts.site.notes import note_text
from forecasts.site.presentation import _day, describe_claim, void_reason_text
from forecasts.templatetags.hindsight import status_label
from marketdata.names import instrument_name


def _chinese() -> bool:
    return (get_language() or "en").startswith("zh")


LEDGER_NS = "urn:hindsight:ledger-head:1"
# Entry ids are tag: URIs (RFC 4151) minted by the site's domain; the date is fixed once and for all (a day
# the site held its name), so an entry keeps its id for ever.
TAG_DATE = "2025-01-01"


def tag_authority(host: str) -> str:
    """The tagging entity's name: the request's host without its port (a tag: URI has none)."""
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host.strip("[]").lower() or "localhost"


class LedgerHeadAtomFeed(Atom1Feed):
    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:hindsight": LEDGER_NS}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        head = self.feed.get("ledger_head")
        if head:
            handler.addQuickElement(
                "link", "", {"rel": "related", "type": "application/json", "href": self.feed["ledger_url"]}
            )
            handler.addQuickElement(
                "hindsight:ledgerHead", "", {k: str(v) for k, v in head.items() if v is not None}
            )


def head_json_text(head: dict) -> str:
    """The head as a reader saves it: the same JSON object /ledger/head.json serves."""
    return json.dumps(head, indent=1, ensure_ascii=False)


class ResolutionsFeed(Feed):
    feed_type = LedgerHeadAtomFeed
    title = _("Hindsight: forecasts resolved")
    subtitle = _(
        "Analysts' quoted market forecasts as they are scored hit, miss or void against real prices."
    )

    def link(self):
        return reverse("home")

    def get_feed(self, obj, request):
        # The Feed instance is shared by every thread: the tag authority goes on a per-request copy.
        feed = copy.copy(self)
        feed.tag_prefix = f"tag:{tag_authority(request.get_host())},{TAG_DATE}:"
        return super(ResolutionsFeed, feed).get_feed(obj, request)

    tag_prefix = f"tag:localhost,{TAG_DATE}:"

    def get_object(self, request, *args, **kwargs):
        # Per request (the Feed instance is shared by every thread): the head and where it is served.
        return {"head": ledger.head(), "url": request.build_absolute_uri(reverse("ledger-head"))}

    def feed_extra_kwargs(self, obj):
        return {"ledger_head": obj["head"], "ledger_url": obj["url"]}

    def items(self, obj):
        return [obj["head"], *pages.resolutions()]

    def item_title(self, f):
        if isinstance(f, dict):
            return _("Ledger head #%(seq)s: %(digest)s…, signed %(signed_at)s") % {
                "seq": f["seq"],
                "digest": f["digest"][:16],
                "signed_at": f["signed_at"],
            }
        return _("%(status)s: %(strategist)s on %(symbol)s") % {
            "status": status_label(f),
            "strategist": f.strategist.name,
            "symbol": instrument_name(f.instrument),  # the reader's name for it, not the ticker
        }

    def item_description(self, f):
        if isinstance(f, dict):
            return head_json_text(f)
        lines = [f"“{f.quote}”", describe_claim(f)]
        if f.resolved_on:
            on = {
                "day": _day(f.resolved_on) if _chinese() else f"{f.resolved_on:%d %b %Y}",
                "price": f"{f.resolution_price:,.2f}" if f.resolution_price else "",
            }
            lines.append(
                (_("Decided on %(day)s at %(price)s.") if on["price"] else _("Decided on %(day)s.")) % on
            )
        if f.void_reason:  # the reason once, without the scorer's own "void:" after our "Void:"
            reason = void_reason_text(f, label=str(status_label(f))) or note_text(f.void_reason)
            lines.append(_("Void: %(reason)s") % {"reason": reason})
        lines.append(
            _("Source: %(publication)s — %(url)s")
            % {"publication": f.source.publication, "url": f.source.url}
        )
        return "\n\n".join(lines)

    def item_link(self, f):
        if isinstance(f, dict):
            return reverse("ledger-head")
        return f.get_absolute_url()

    def item_guid(self, f):
        if isinstance(f, dict):  # one entry per head and day: each daily signature is kept
            return f"{self.tag_prefix}ledger-head/{f['seq']}/{f['digest'][:16]}/{f['signed_at'][:10]}"
        # One entry per decision: a rescored forecast is a new entry.
        return f"{self.tag_prefix}forecast/{f.pk}/{f.status}/{f.resolved_on or 'void'}"

    item_guid_is_permalink = False

    def item_pubdate(self, f):
        if isinstance(f, dict):
            return datetime.fromisoformat(f["signed_at"])
        return f.scored_at

    def item_updateddate(self, f):
        return self.item_pubdate(f)

    def item_author_name(self, f):
        if isinstance(f, dict):
            return "Hindsight"
        return f.strategist.name
