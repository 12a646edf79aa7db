"""lookups.existing names the missing document in its NOT_FOUND."""

from __future__ import annotations

import pytest

from copnet.kernel.errors import NotFound
from copnet.membership import lookups
from copnet.membership.models import Community


def test_an_empty_id_is_not_found_without_asking_the_database():
    with pytest.raises(NotFound, match="no community ''"):
        lookups.existing(Community, "")
