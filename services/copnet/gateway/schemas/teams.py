"""/api/v1 teams: request and response shapes."""

from __future__ import annotations
