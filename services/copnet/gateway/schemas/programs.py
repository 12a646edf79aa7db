"""/api/v1 programs: request and response shapes."""

from __future__ import annotations
