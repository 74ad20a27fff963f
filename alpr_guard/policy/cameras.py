"""What a camera id is: one rule for the wire models, the vendor mappings and the camera
registry, so a credential can only ever be bound to an id a read could carry."""

from __future__ import annotations

import re

CAMERA_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
CAMERA_ID_RULE = "must be 1-64 letters, digits or ._:/-"
