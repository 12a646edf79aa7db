"""/api/v1 people: request and response shapes."""

from __future__ import annotations
