"""The ``/docs`` page: Swagger UI served by the gateway itself, so it works offline.

The UI's JavaScript and CSS come from the ``swagger-ui-bundle-v2`` wheel (installed with the
gateway, from PyPI); nothing is loaded from a CDN. The page, its assets and the OpenAPI document
are all same-origin, and the page's Content-Security-Policy keeps it that way: a browser refuses
any script, style, image or request to another host.

Only the files listed in :data:`ASSETS` are served (the bundle's ``index.html`` points at the
public petstore, so the directory is never exposed whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import swagger_ui_bundle

SPEC_PATH = "/schema/openapi.json"
# Where the document was first published; still served for clients that use it.
LEGACY_SPEC_PATH = "/docs/openapi.json"
ASSETS_PATH = "/docs/assets"

# Swagger UI 5 (OpenAPI 3.1). The version in the asset URL lets browsers cache them for long.
SWAGGER_UI_DIR = Path(str(swagger_ui_bundle.swagger_ui_path))
SWAGGER_UI_VERSION = SWAGGER_UI_DIR.name.removeprefix("swagger-ui-")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# The page's own start-up script (a file, not inline, so the policy can forbid inline scripts).
INITIALIZER_JS = """\
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    layout: "BaseLayout",
  });
});
"""


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


def asset_url(name: str) -> str:
    return f"{ASSETS_PATH}/{SWAGGER_UI_VERSION}/{name}"


# URL name -> (file in the Swagger UI bundle, or None for the initializer above; media type,
# to which Litestar adds "; charset=utf-8" for text/*)
ASSETS: dict[str, tuple[str | None, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui.css", "text/css"),
    "favicon-32x32.png": ("favicon-32x32.png", "image/png"),
    "wattline-docs.js": (None, "text/javascript"),
}


@cache
def asset(name: str) -> Asset | None:
    """The asset served as ``{ASSETS_PATH}/{SWAGGER_UI_VERSION}/{name}``, or None."""
    entry = ASSETS.get(name)
    if entry is None:
        return None
    file, media_type = entry
    body = INITIALIZER_JS.encode() if file is None else (SWAGGER_UI_DIR / file).read_bytes()
    return Asset(body, media_type)


DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wattline API</title>
<link rel="stylesheet" href="{asset_url("swagger-ui.css")}">
<link rel="icon" type="image/png" href="{asset_url("favicon-32x32.png")}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{SPEC_PATH}"></div>
<noscript>The OpenAPI document is at <a href="{SPEC_PATH}">{SPEC_PATH}</a>.</noscript>
<script src="{asset_url("swagger-ui-bundle.js")}"></script>
<script src="{asset_url("wattline-docs.js")}"></script>
</body>
</html>
"""
