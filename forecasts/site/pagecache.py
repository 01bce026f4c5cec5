"""The whole-page cache: public pages and API reads, stored whole under the data version.

A public page is the same for every anonymous reader (the language is in the path, no CSRF token, nothing
per user), so the rendered response can be shared. One entry per URL (host, path with query, and Accept for
the API) holds the page and the data version it was rendered under; a hit costs the version (memoised per
process for a second) and one cache read, and answers conditional GETs from the version alone. Any write
moves the version (forecasts.services.dataversion), and the next request re-renders the page.

Two rules keep a busy site from re-rendering the same page on every write (issue 13: editors recording
forecasts move the version many times a second):

- **Coalescing** (HINDSIGHT_PAGE_FRESH_SECONDS, 2 s in production, 0 in the tests): a page rendered less than
  that long ago is served even if the version has moved since. An anonymous reader may see a change up to
  that late; editors never do (below). The pages already tell a CDN it may keep them 60 s.
- **One renderer** (stale-while-revalidate): when a page is out of date, the first request takes a short lock
  and renders it; requests that arrive meanwhile get the previous rendering (X-Page-Cache: stale), if it is
  younger than HINDSIGHT_PAGE_STALE_SECONDS (30 s), instead of all rendering the same page at once.

A page served from its entry carries that entry's version as ETag / Last-Modified, so a conditional GET
against a stale copy never claims to be current.

What is stored: 200 answers to anonymous GET/HEAD requests whose view declared them public
(Cache-Control: public, set by forecasts.site.views.public_page and the API's read views), with no
Set-Cookie. Requests carrying a session cookie or an Authorization header bypass the cache both ways:
editors always see what the database holds.

The response also tells a CDN or nginx how long it may keep the page (max-age, stale-while-revalidate);
README.md (Deploying) says how to put one in front.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_etags

from forecasts.services import dataversion

log = logging.getLogger(__name__)

# One entry per URL, overwritten by each re-render; a URL nobody asks for ages out (Redis evicts earlier
# under maxmemory-policy volatile-lru).
TIMEOUT = 24 * 3600
# A renderer that dies holding the lock only delays the next re-render by this long.
RENDER_LOCK_SECONDS = 10
# Cookie and Authorization may be varied on: only requests with neither a session nor credentials get here.
# Accept: the API negotiates JSON or CSV by it, so API keys include it (pages do not negotiate).
_SAFE_VARY = {"accept-language", "origin", "accept-encoding", "cookie", "authorization", "accept"}
# Every header the view and the middlewares below this one set is stored with the page (CSP, X-Frame-Options,
# Content-Language, Vary …) except these, which belong to one response.
_DROPPED_HEADERS = {"set-cookie", "date", "content-length", "x-page-cache", "etag", "last-modified"}


def _vary(response) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


def _bypass(request) -> bool:
    return (
        request.method not in ("GET", "HEAD")
        or "HTTP_AUTHORIZATION" in request.META
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or request.path.startswith(("/" + settings.HINDSIGHT_ADMIN_PATH, "/static/"))
    )


def _key(request) -> str:
    accept = request.META.get("HTTP_ACCEPT", "") if request.path.startswith("/api/") else ""
    where = f"{request.get_host()}{request.get_full_path()}\n{accept}".encode()
    return f"page:{hashlib.blake2b(where, digest_size=16).hexdigest()}"


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not getattr(response, "streaming", False)
        and "public" in response.get("Cache-Control", "")
        and not response.cookies
        and _vary(response) <= _SAFE_VARY
    )


def _validators(version: int) -> tuple[str, str]:
    return f'"v{version:x}"', http_date(version / 1_000_000)


class PageCacheMiddleware:
    """Serve and store whole public responses under the data version (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = settings.HINDSIGHT_PAGE_CACHE

    def __call__(self, request):
        if not self.enabled or _bypass(request):
            return self.get_response(request)
        version = dataversion.current()
        if version is None:  # the cache is down: render per request
            return self.get_response(request)
        key = _key(request)
        entry = cache.get(key)
        lock = None
        if entry is not None:
            stored_version, rendered_at, status, headers, content = entry
            age = time.time() - rendered_at
            if stored_version >= version or age < settings.HINDSIGHT_PAGE_FRESH_SECONDS:
                return self._serve(request, stored_version, status, headers, content, "hit")
            if age < settings.HINDSIGHT_PAGE_STALE_SECONDS:
                if not cache.add(key + ":rendering", 1, timeout=RENDER_LOCK_SECONDS):
                    # Another request is rendering this page right now: hand out the previous rendering.
                    return self._serve(request, stored_version, status, headers, content, "stale")
                lock = key + ":rendering"  # taken by us: given back once this rendering is stored
        try:
            response = self.get_response(request)
            if _storable(response):
                # Rendered from data at least as new as `version` (the version moves only after a write
                # commits), so storing it under that version never passes an older page off as current.
                etag, last_modified = _validators(version)
                response["ETag"], response["Last-Modified"] = etag, last_modified
                headers = [(h, v) for h, v in response.items() if h.lower() not in _DROPPED_HEADERS]
                entry = (version, time.time(), response.status_code, headers, response.content)
                cache.set(key, entry, TIMEOUT)
                response["X-Page-Cache"] = "miss"
            return response
        finally:
            if lock is not None:
                cache.delete(lock)

    @staticmethod
    def _serve(request, version, status, headers, content, how):
        etag, last_modified = _validators(version)
        if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
            response = HttpResponseNotModified()
            response["ETag"] = etag
            return response
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        response["ETag"], response["Last-Modified"] = etag, last_modified
        response["X-Page-Cache"] = how
        return response
