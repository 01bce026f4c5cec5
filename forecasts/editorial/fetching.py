"""Fetch one article page for the editor's desk: http(s) only, a time-out and a size limit.

`fetch_page(url)` returns the page's HTML as text or raises `FetchError` with a message an editor can
read ("The page answered 404 Not Found.", "The page is larger than 2 MB ..."). It uses the standard
library only (urllib), follows at most a few redirects (each checked like the first address), streams the
body and stops at the size limit, and enforces the time-out over the whole download, not only per read
(a single stalled read can add at most one more time-out).

By default it refuses addresses that resolve to loopback, private, link-local or reserved networks (the
desk must not become a way to read the server's own network); tests pass `allow_private=True` to fetch
from a local http.server. DNS can still change between the check and the connection: the check is a
guard against mistakes and casual misuse, not a network policy.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "FetchError", "FetchedPage", "fetch_page"]

DEFAULT_TIMEOUT = 10.0  # seconds, for the whole download
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Mozilla/5.0 (compatible; Hindsight editor's desk)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHUNK = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class FetchError(Exception):
    """The page could not be fetched; the message is for the editor."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str
    encoding: str
    html: str
    size: int  # bytes read


def _mb(n: int) -> str:
    """2 MB, 2.5 MB, 3 KB."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(n / 1024))} KB"


def check_url(url: str, *, allow_private: bool = False) -> str:
    """The URL stripped, or FetchError: absolute http(s) with a host, and (unless allowed) a public one."""
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("Only http:// and https:// addresses can be fetched.")
    if not parts.hostname:
        raise FetchError("The address has no host name.")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"Could not find the host {parts.hostname!r} ({exc}).") from exc
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise FetchError(
                    f"The host {parts.hostname!r} is on a private or local network; not fetched."
                )
    return url


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def __init__(self, allow_private: bool):
        super().__init__()
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(urllib.parse.urljoin(req.full_url, newurl), allow_private=self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _encoding(content_type_charset: str | None, body: bytes) -> str:
    for name in (
        content_type_charset,
        *(m.decode("ascii", "ignore") for m in _META_CHARSET.findall(body[:4096])),
    ):
        if not name:
            continue
        try:
            "".encode(name)
        except LookupError:
            continue
        return name
    return "utf-8"


def fetch_page(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
) -> FetchedPage:
    """The HTML at `url`, or FetchError (bad address, time-out, too big, not HTML, HTTP error)."""
    url = check_url(url, allow_private=allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
    )
    started = time.monotonic()
    timed_out = FetchError(f"The page did not arrive within {timeout:g} seconds.")
    try:
        with opener.open(request, timeout=timeout) as response:
            content_type = response.headers.get_content_type()
            declared = response.headers.get("Content-Length")
            if content_type not in HTML_TYPES:
                raise FetchError(f"The address is not an HTML page (it is {content_type}).")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"The page is larger than {_mb(max_bytes)} ({_mb(int(declared))}); not fetched."
                )
            chunks, size = [], 0
            while True:
                if time.monotonic() - started > timeout:
                    raise timed_out
                chunk = response.read1(_CHUNK)  # what has arrived, so a slow drip is caught
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"The page is larger than {_mb(max_bytes)}; not fetched.")
                chunks.append(chunk)
            body = b"".join(chunks)
            encoding = _encoding(response.headers.get_content_charset(), body)
            return FetchedPage(
                url=url,
                final_url=response.geturl(),
                status=response.status,
                content_type=content_type,
                encoding=encoding,
                html=body.decode(encoding, errors="replace"),
                size=size,
            )
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"The page answered {exc.code} {exc.reason}.") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise timed_out from exc
        if isinstance(exc.reason, FetchError):
            raise exc.reason from exc
        raise FetchError(f"Could not reach the page ({exc.reason}).") from exc
    except TimeoutError as exc:
        raise timed_out from exc
    except (
        OSError,
        ValueError,
        http.client.HTTPException,
    ) as exc:  # connection reset, bad status line, malformed address
        raise FetchError(f"Could not fetch the page ({exc}).") from exc
