"""The HTTP API: Flask views, their request and response models, the OpenAPI document.

The app is wired in ``api.app``. ``build_app`` is reached through here without importing the
views: importing one module of this package (``alpr-guard import`` uses the wire layer's read
parser, ``api.parsing``) runs this file first, and importing Flask, the sign-in client and
every view from here cost each CLI command about a second and a half before it did anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from alpr_guard.runtime import Runtime


def build_app(runtime: Runtime) -> Flask:
    """The WSGI app over ``runtime`` (see ``api.app.build_app``)."""
    from alpr_guard.api.app import build_app as build

    return build(runtime)
