"""/api/v1 registrations: request and response shapes."""

from __future__ import annotations
