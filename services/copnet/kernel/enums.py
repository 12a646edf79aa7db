"""Proto enum values <-> the lower-case labels used in events, documents and JSON.

buf style prefixes every value with its enum's name (`ORGANIZATION_KIND_COUNTY_OFFICE`), so the
label is the value's name without that prefix, lower-cased (`county_office`).
"""

from __future__ import annotations

import re


def _prefix(enum) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.DESCRIPTOR.name).upper() + "_"


def to_label(enum, number: int) -> str:
    return enum.Name(number).removeprefix(_prefix(enum)).lower()


def from_label(enum, label: str) -> int:
    return enum.Value(_prefix(enum) + label.upper())


# Grade bands: the proto labels (stored, in events) and the spelling people read and write
# (`K-2`), used by the REST API and handed to plugins. The one table both directions come from.
GRADE_BAND_SPELLING = {"k_2": "K-2", "3_5": "3-5", "6_8": "6-8", "9_12": "9-12"}
GRADE_BAND_LABEL = {spelling: label for label, spelling in GRADE_BAND_SPELLING.items()}
