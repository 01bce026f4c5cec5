"""Atom feed of resolutions: each forecast as it is decided (hit, miss) or voided.

The feed also carries the signed ledger head (forecasts/ledger.py): as a `hindsight:ledgerHead` element of
the feed and as its first entry, whose summary is the head's JSON as /ledger/head.json serves it, so a feed
reader that archives entries keeps a head to check the record against later.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from forecasts import ledger
from forecasts.selectors import pages
from forecasts.site.presentation import describe_claim

LEDGER_NS = "urn:hindsight:ledger-head:1"


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

    def get_object(self, request, *args, **kwargs):
        # Per request (the Feed instance is shared by every thread): the head and where it is served.
        return {"head": ledger.head(), "url": request.build_absolute_uri(reverse("ledger-head"))}

    def feed_extra_kwargs(self, obj):
        return {"ledger_head": obj["head"], "ledger_url": obj["url"]}

    def items(self, obj):
        return [obj["head"], *pages.resolutions()]

    def item_title(self, f):
        if isinstance(f, dict):
            return f"Ledger head #{f['seq']}: {f['digest'][:16]}…, signed {f['signed_at']}"
        return f"{f.get_status_display()}: {f.strategist.name} on {f.instrument.symbol}"

    def item_description(self, f):
        if isinstance(f, dict):
            return head_json_text(f)
        lines = [f"“{f.quote}”", describe_claim(f)]
        if f.resolved_on:
            lines.append(
                f"Decided on {f.resolved_on:%d %b %Y}"
                + (f" at {f.resolution_price:,.2f}." if f.resolution_price else ".")
            )
        if f.void_reason:
            lines.append(f"Void: {f.void_reason}")
        lines.append(f"Source: {f.source.publication} — {f.source.url}")
        return "\n\n".join(lines)

    def item_link(self, f):
        if isinstance(f, dict):
            return reverse("ledger-head")
        return f.get_absolute_url()

    def item_guid(self, f):
        if isinstance(f, dict):  # one entry per head and day: each daily signature is kept
            return f"hindsight-ledger-head-{f['seq']}-{f['digest'][:16]}-{f['signed_at'][:10]}"
        # One entry per decision: a rescored forecast is a new entry.
        return f"hindsight-forecast-{f.pk}-{f.status}-{f.resolved_on or 'void'}"

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
