"""Atom feed of resolutions: each forecast as it is decided (hit, miss) or voided."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from forecasts import pages
from forecasts.presentation import describe_claim


class ResolutionsFeed(Feed):
    feed_type = Atom1Feed
    title = _("Hindsight: forecasts resolved")
    subtitle = _(
        "Analysts' quoted market forecasts as they are scored hit, miss or void against real prices."
    )

    def link(self):
        return reverse("home")

    def items(self):
        return pages.resolutions()

    def item_title(self, f):
        return f"{f.get_status_display()}: {f.strategist.name} on {f.instrument.symbol}"

    def item_description(self, f):
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
        return f.get_absolute_url()

    def item_guid(self, f):
        # One entry per decision: a rescored forecast is a new entry.
        return f"hindsight-forecast-{f.pk}-{f.status}-{f.resolved_on or 'void'}"

    item_guid_is_permalink = False

    def item_pubdate(self, f):
        return f.scored_at

    def item_updateddate(self, f):
        return f.scored_at

    def item_author_name(self, f):
        return f.strategist.name
