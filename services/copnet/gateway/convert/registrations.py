"""registrations: JSON models <-> membership messages."""

from __future__ import annotations
