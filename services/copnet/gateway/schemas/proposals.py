"""/api/v1 proposals: request and response shapes."""

from __future__ import annotations
