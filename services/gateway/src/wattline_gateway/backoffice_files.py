"""The back office's built web app (``backoffice/dist``, built by Vite with base
``/backoffice/``), served by the gateway at ``/backoffice/`` so that it and the API it calls
are one origin (no CORS, the session cookie SameSite=Strict).

A path naming a file of the build is that file; a path without an extension is a page of
the app's client-side routing, answered with ``index.html`` (deep links work); nothing
outside the directory is ever reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PREFIX = "/backoffice"
INDEX = "index.html"
# Vite's hashed output: a new build gets new names, so a browser may keep these for ever.
HASHED_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"

# No inline script or style, nothing from another host; the app calls /api on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
# Litestar adds '; charset=utf-8' to a text/* type itself (named here, it came twice).
MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain",
}


class NotBuilt(Exception):
    """The directory of the build does not exist (or holds no index.html)."""


class NotFound(Exception):
    """A path with an extension that names no file of the build (or leaves it)."""


@dataclass(frozen=True)
class Found:
    path: Path
    media_type: str
    cache_control: str


def find(root: Path | None, rest: str) -> Found:
    """What ``/backoffice/<rest>`` answers from the build in *root*."""
    if root is None or not (root / INDEX).is_file():
        raise NotBuilt(str(root))
    rest = rest.lstrip("/")  # Litestar's path parameter starts with one
    parts = PurePosixPath(rest).parts if rest.strip("/") else ()
    if any(part in ("..", ".") or "\\" in part or "\x00" in part for part in parts):
        raise NotFound(rest)
    base = root.resolve()
    try:  # a name too long for the file system is no file of ours either
        candidate = base.joinpath(*parts).resolve() if parts else base / INDEX
        is_file = candidate.is_file()
    except OSError:
        raise NotFound(rest) from None
    if not candidate.is_relative_to(base):  # a symlink out of the build
        raise NotFound(rest)
    if is_file:
        hashed = len(parts) > 1 and parts[0] == HASHED_DIR
        return Found(candidate, _media_type(candidate), IMMUTABLE if hashed else "no-cache")
    if parts and "." in parts[-1]:
        raise NotFound(rest)
    return Found(base / INDEX, MEDIA_TYPES[".html"], "no-cache")  # a page of the app


def _media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
