"""OneRoster roster import: districts, schools and staff from a OneRoster 1.1 CSV bundle.

Reads the CSV bundle a student information system exports (orgs.csv and users.csv, with
enrollments.csv, classes.csv and a OneRoster 1.2 roles.csv used when present) into copnet's
organizations, people and affiliations: districts go under the county office the region names,
schools under their district, and teachers, aides and administrators become people with
positions. Students, guardians and rows marked `tobedeleted` are never imported — student data
stays in the student information system. Ids are derived from the OneRoster `sourcedId`, so
importing the same bundle again changes nothing. Rows that cannot be used are reported with
their file, row number and the reason, and every other row still imports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, field_validator

from copnet import (GRADE_BANDS, PluginSettings, RosterAffiliation, RosterBatch, RosterOrganization, RosterPerson,
                    RosterRowError, hookimpl)
from copnet_plugins.assessment_enrollments import ClassEnrollments

COPNET_HOOKSPEC_VERSION = 2

SOURCE_KEY = "oneroster-1.1-csv"
Position = Literal["teacher", "coach", "specialist", "site_admin", "district_admin", "county_leader",
                   "university_partner", "researcher", "skip"]
STAFF_ROLES = ("teacher", "administrator", "aide")
# Never imported, and not an error: student and family data stays out of copnet.
NOT_STAFF_ROLES = ("student", "guardian", "parent", "relative", "proctor")
DEFAULT_POSITIONS: dict[str, str] = {
    "teacher@school": "teacher", "teacher@district": "teacher",
    "aide@school": "teacher", "aide@district": "teacher",
    "administrator@school": "site_admin", "administrator@district": "district_admin",
}
MAPPING_KEYS = tuple(DEFAULT_POSITIONS) + STAFF_ROLES
# OneRoster org types copnet has no organization for: reported, not imported.
UNMAPPED_ORG_TYPES = ("local", "state", "national")
# CEDS grade codes -> copnet grade bands (pre-K and post-secondary codes have none).
BAND_OF_GRADE = {"KG": "K-2", "TK": "K-2", "01": "K-2", "02": "K-2", "03": "3-5", "04": "3-5", "05": "3-5",
                 "06": "6-8", "07": "6-8", "08": "6-8", "09": "9-12", "10": "9-12", "11": "9-12", "12": "9-12"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,32}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
ID_MAX = 63


class Settings(PluginSettings):
    """Where imported districts go, how ids and emails are made, and which positions people get."""

    parent_organization_id: str = Field(
        "", max_length=63,
        description="Organization id of the county office the imported districts are placed under. Empty: the "
                    "organization the import runs for (which must then be a county office).")
    id_prefix: str = Field(
        "or", pattern=r"^[a-z0-9][a-z0-9-]{0,15}$",
        description="Prefix of every id derived from a sourcedId (`or-<sourcedId>`); give each district's "
                    "bundle its own when their sourcedIds could collide.")
    email_domain: str = Field(
        "", max_length=200, pattern=r"^$|^[a-z0-9.-]+\.[a-z]{2,}$",
        description="For a user without an email: `<username>@<email_domain>`. Empty: such users are "
                    "reported as errors.")
    position_mapping: dict[str, Position] = Field(
        default_factory=dict,
        description="Overrides of the position each OneRoster role gets, keyed `role` or `role@school` / "
                    "`role@district` (roles: teacher, administrator, aide), valued with a copnet position or "
                    "`skip`. Defaults: teacher -> teacher, aide -> teacher, administrator@school -> "
                    "site_admin, administrator@district -> district_admin.")
    school_codes: dict[str, str] = Field(
        default_factory=dict, max_length=10_000,
        description="For the enrollments importer (oneroster-enrollments): schoolSourcedId -> the school's code in "
                    "copnet (orgs.csv `identifier`, e.g. its CDS code), for an enrollments.csv without a "
                    "`schoolCode` column. A school not listed is looked up by its sourcedId.")

    @field_validator("position_mapping")
    @classmethod
    def _known_keys(cls, mapping: dict[str, str]) -> dict[str, str]:
        unknown = [key for key in mapping if key not in MAPPING_KEYS]
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r}; use one of {', '.join(MAPPING_KEYS)}")
        return mapping


def position_for(role: str, org_kind: str, settings: Settings) -> str:
    """The copnet position (or `skip`) of a OneRoster role held at a school or district."""
    key = f"{role}@{org_kind}"
    return settings.position_mapping.get(key) or settings.position_mapping.get(role) or DEFAULT_POSITIONS[key]


def derive_id(prefix: str, sourced_id: str) -> str:
    """A copnet id (`[a-z0-9-]`, at most 63) for a sourcedId: the same one every import.

    A sourcedId that is already lower-case letters, digits and `-` is kept readable
    (`or-<sourcedId>`); any other (upper case, GUID braces, too long) gets a hash suffix so two
    sourcedIds that differ only in case or punctuation still get different ids.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", sourced_id.lower()).strip("-")
    candidate = f"{prefix}-{slug}" if slug else prefix
    if slug == sourced_id and len(candidate) <= ID_MAX:
        return candidate
    digest = hashlib.sha256(sourced_id.encode("utf-8")).hexdigest()[:10]
    return f"{candidate[:ID_MAX - len(digest) - 1].rstrip('-')}-{digest}"


def grade_bands(codes: str) -> tuple[str, ...]:
    found = {BAND_OF_GRADE[code] for code in _split(codes.upper()) if code in BAND_OF_GRADE}
    found |= {BAND_OF_GRADE[f"0{code}"] for code in _split(codes) if code.isdigit() and len(code) == 1 and code != "0"}
    return tuple(band for band in GRADE_BANDS if band in found)


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# -- reading files ------------------------------------------------------------------------------
class _Bundle:
    def __init__(self, files: Mapping[str, bytes]):
        self.files: dict[str, bytes] = {}
        # Base name (lower case) -> every name given for it, when more than one: `a/users.csv` and
        # `b/Users.csv` are both users.csv to a reader, and neither may be read in place of the other.
        self.ambiguous: dict[str, list[str]] = {}
        given: dict[str, list[str]] = {}
        for name, content in files.items():
            base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
            given.setdefault(base, []).append(name)
            self.files[base] = content
        self.ambiguous = {base: names for base, names in given.items() if len(names) > 1}
        self.errors: list[RosterRowError] = []

    def error(self, file: str, row: int, message: str) -> None:
        self.errors.append(RosterRowError(file=file, row=row, message=message))

    def rows(self, name: str, required: tuple[str, ...], *, optional_file: bool = False):
        """(line, {lower-case column: stripped value}) for each row; the header is line 1."""
        if name in self.ambiguous:
            names = ", ".join(sorted(self.ambiguous[name]))
            self.error(name, 0, f"is given {len(self.ambiguous[name])} times ({names}): names are matched without "
                                f"their folder and case, so none is read; send one")
            return
        if name not in self.files:
            if not optional_file:
                self.error(name, 0, f"{name} is missing from the bundle")
            return
        content = self.files[name]
        try:
            text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            self.error(name, 0, f"is not UTF-8 text ({exc.reason} at byte {exc.start})")
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            self.error(name, 1, "is empty: no header row")
            return
        columns = [column.strip().lower() for column in header]
        missing = [column for column in required if column.lower() not in columns]
        if missing:
            self.error(name, 1, f"the header lacks column(s): {', '.join(missing)}")
            return
        for values in reader:
            number = reader.line_num  # where the row ends, as an editor numbers lines (header: 1)
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(columns):
                self.error(name, number, f"has {len(values)} values but the header has {len(columns)} columns")
                continue
            yield number, {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(columns)}


@dataclass
class _Org:
    copnet_id: str
    kind: str  # district, school, department (affiliations go to its school) or an unmapped type
    row: int
    parent_sourced_id: str = ""
    target: RosterOrganization | None = None


@dataclass
class _Staff:
    person: RosterPerson
    row: int
    roles: list[tuple[str, str, str, int]] = field(default_factory=list)  # (role, org sourcedId, file, row)
    bands: set[str] = field(default_factory=set)


def _live(row: dict[str, str], bundle: _Bundle, file: str, number: int) -> bool:
    status = row.get("status", "").lower()
    if status == "tobedeleted":
        return False
    if status not in ("", "active"):
        bundle.error(file, number, f"status {row.get('status')!r} is not active or tobedeleted")
        return False
    return True


def _read_orgs(bundle: _Bundle, settings: Settings) -> dict[str, _Org]:
    orgs: dict[str, _Org] = {}
    rows = list(bundle.rows("orgs.csv", ("sourcedId", "name", "type")))
    for number, row in rows:
        sourced_id, name, kind = row["sourcedid"], row["name"], row["type"].lower()
        if not _live(row, bundle, "orgs.csv", number):
            continue
        if not sourced_id:
            bundle.error("orgs.csv", number, "sourcedId is empty")
            continue
        if sourced_id in orgs:
            bundle.error("orgs.csv", number, f"sourcedId {sourced_id!r} appears again (first on row "
                                             f"{orgs[sourced_id].row})")
            continue
        if kind not in ("district", "school", "department") + UNMAPPED_ORG_TYPES:
            bundle.error("orgs.csv", number, f"{sourced_id}: type {row['type']!r} is not a OneRoster org type")
            continue
        if kind in UNMAPPED_ORG_TYPES:
            orgs[sourced_id] = _Org(copnet_id="", kind=kind, row=number)
            bundle.error("orgs.csv", number, f"{sourced_id} ({name}): a {kind} org is not imported; districts go "
                                             f"under {settings.parent_organization_id or 'the importing county office'}")
            continue
        if not name or len(name) > 200:
            bundle.error("orgs.csv", number, f"{sourced_id}: name must be 1-200 characters")
            continue
        org = _Org(copnet_id=derive_id(settings.id_prefix, sourced_id), kind=kind, row=number,
                   parent_sourced_id=row.get("parentsourcedid", ""))
        if kind != "department":
            code = row.get("identifier", "")
            if code and not CODE_PATTERN.match(code):
                bundle.error("orgs.csv", number, f"{sourced_id}: identifier {code!r} is not a usable code (1-32 "
                                                 f"letters, digits or '-'); imported without a code")
                code = ""
            parent = settings.parent_organization_id if kind == "district" else ""
            org.target = RosterOrganization(id=org.copnet_id, name=name, kind=kind, parent_id=parent, code=code)
        orgs[sourced_id] = org
    # Schools under their district; departments stand for their school.
    for sourced_id, org in list(orgs.items()):
        if org.kind == "school":
            parent = orgs.get(org.parent_sourced_id)
            if parent is None or parent.kind != "district" or parent.target is None:
                bundle.error("orgs.csv", org.row, f"{sourced_id}: parentSourcedId {org.parent_sourced_id!r} is not "
                                                  f"a district in orgs.csv")
                del orgs[sourced_id]
                continue
            org.target = RosterOrganization(id=org.copnet_id, name=org.target.name, kind="school",
                                            parent_id=parent.copnet_id, code=org.target.code)
    for sourced_id, org in list(orgs.items()):
        if org.kind == "department":
            parent = orgs.get(org.parent_sourced_id)
            if parent is None or parent.kind not in ("school", "district") or parent.target is None:
                bundle.error("orgs.csv", org.row, f"{sourced_id}: department's parentSourcedId "
                                                  f"{org.parent_sourced_id!r} is not a school or district in orgs.csv")
                del orgs[sourced_id]
                continue
            org.target = parent.target
    return orgs


def _email(row: dict[str, str], settings: Settings) -> str:
    email = row.get("email", "")
    username = row.get("username", "")
    if not email and "@" in username:
        email = username
    if not email and username and settings.email_domain:
        email = f"{username}@{settings.email_domain}"
    return email


def _read_users(bundle: _Bundle, settings: Settings, extra_roles: dict[str, list[tuple[str, str, str, int]]]
                ) -> tuple[dict[str, _Staff], set[str]]:
    staff: dict[str, _Staff] = {}
    seen: dict[str, int] = {}
    emails: dict[str, str] = {}
    not_staff: set[str] = set()
    for number, row in bundle.rows("users.csv", ("sourcedId", "givenName", "familyName")):
        sourced_id = row["sourcedid"]
        if not _live(row, bundle, "users.csv", number):
            continue
        if not sourced_id:
            bundle.error("users.csv", number, "sourcedId is empty")
            continue
        roles = [(row.get("role", "").lower(), org, "users.csv", number) for org in _split(row.get("orgsourcedids", ""))]
        if row.get("role") and not roles:
            roles = [(row["role"].lower(), "", "users.csv", number)]
        roles += extra_roles.get(sourced_id, [])
        kinds = {role for role, _, _, _ in roles}
        if kinds & set(NOT_STAFF_ROLES):
            # A student (or family member): never imported, never reported, not even as a
            # duplicate (a report must not carry a student's sourcedId).
            not_staff.add(sourced_id)
            continue
        if sourced_id in seen:
            bundle.error("users.csv", number, f"sourcedId {sourced_id!r} appears again (first on row "
                                              f"{seen[sourced_id]})")
            continue
        seen[sourced_id] = number
        if row.get("enableduser", "").lower() == "false":
            continue
        unknown = sorted(kinds - set(STAFF_ROLES))
        if unknown or not roles:
            bundle.error("users.csv", number, f"{sourced_id}: role {', '.join(unknown) or '(none)'} is not a "
                                              f"OneRoster role (teacher, administrator and aide are imported; "
                                              f"{', '.join(NOT_STAFF_ROLES)} are left out)")
            continue
        name = " ".join(part for part in (row["givenname"], row["familyname"]) if part)
        if not name or len(name) > 200:
            bundle.error("users.csv", number, f"{sourced_id}: givenName and familyName make no name of 1-200 "
                                              f"characters")
            continue
        email = _email(row, settings)
        if not EMAIL_PATTERN.match(email) or len(email) > 254:
            hint = "" if settings.email_domain else " (or set email_domain to build one from the username)"
            bundle.error("users.csv", number, f"{sourced_id}: no usable email{hint}" if not email else
                         f"{sourced_id}: email {email!r} is not an email address")
            continue
        if email.lower() in emails:
            bundle.error("users.csv", number, f"{sourced_id}: email {email!r} is also {emails[email.lower()]}'s")
            continue
        emails[email.lower()] = sourced_id
        person = RosterPerson(id=derive_id(settings.id_prefix, sourced_id), name=name, email=email)
        staff[sourced_id] = _Staff(person=person, row=number, roles=roles, bands=set(grade_bands(row.get("grades", ""))))
    return staff, not_staff


def _read_roles(bundle: _Bundle) -> dict[str, list[tuple[str, str, str, int]]]:
    """OneRoster 1.2 roles.csv (when present): one (role, org) per row for its user."""
    roles: dict[str, list[tuple[str, str, str, int]]] = {}
    for number, row in bundle.rows("roles.csv", ("userSourcedId", "role", "orgSourcedId"), optional_file=True):
        if not _live(row, bundle, "roles.csv", number):
            continue
        roles.setdefault(row["usersourcedid"], []).append((row["role"].lower(), row["orgsourcedid"], "roles.csv",
                                                           number))
    return roles


def _read_enrollments(bundle: _Bundle, staff: dict[str, _Staff], orgs: dict[str, _Org]) -> None:
    """Staff enrollments add the class's school (and its grades) to the person; students' are ignored."""
    class_grades: dict[str, str] = {}
    for _, row in bundle.rows("classes.csv", ("sourcedId", "grades"), optional_file=True):
        if row.get("status", "").lower() != "tobedeleted":
            class_grades[row["sourcedid"]] = row.get("grades", "")
    for number, row in bundle.rows("enrollments.csv", ("classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
                                   optional_file=True):
        member = staff.get(row["usersourcedid"])
        if member is None or row.get("status", "").lower() == "tobedeleted":
            continue  # students, unknown or skipped users: nothing to add
        role = row["role"].lower()
        if role not in STAFF_ROLES:
            continue
        member.roles.append((role, row["schoolsourcedid"], "enrollments.csv", number))
        member.bands |= set(grade_bands(class_grades.get(row["classsourcedid"], "")))


def read_bundle(files: Mapping[str, bytes], settings: Settings | None = None) -> RosterBatch:
    """Read a OneRoster CSV bundle (file name -> bytes) into a RosterBatch with per-row errors."""
    settings = settings or Settings()
    bundle = _Bundle(files)
    orgs = _read_orgs(bundle, settings)
    staff, _ = _read_users(bundle, settings, _read_roles(bundle))
    _read_enrollments(bundle, staff, orgs)

    batch = RosterBatch()
    batch.organizations = ([org.target for org in orgs.values() if org.kind == "district" and org.target] +
                           [org.target for org in orgs.values() if org.kind == "school" and org.target])
    for sourced_id, member in staff.items():
        affiliations: dict[tuple[str, str], RosterAffiliation] = {}
        unknown: list[tuple[str, str, int]] = []
        for role, org_sourced_id, file, number in member.roles:
            org = orgs.get(org_sourced_id)
            if org is None or org.target is None:
                unknown.append((org_sourced_id, file, number))
                continue
            position = position_for(role, org.target.kind, settings)
            if position == "skip":
                continue
            key = (org.target.id, position)
            affiliations.setdefault(key, RosterAffiliation(person_id=member.person.id, organization_id=org.target.id,
                                                           position=position))
        if not affiliations:
            named = ", ".join(repr(org) for org, _, _ in unknown) or "none"
            bundle.error("users.csv", member.row, f"{sourced_id}: no school or district of orgs.csv to affiliate "
                                                  f"with (orgs: {named}); the person is left out")
            continue
        for org_sourced_id, file, number in unknown:
            bundle.error(file, number, f"{sourced_id}: org {org_sourced_id!r} is not a district, school or "
                                       f"department in orgs.csv; that affiliation is left out")
        batch.people.append(RosterPerson(id=member.person.id, name=member.person.name, email=member.person.email,
                                         grade_bands=tuple(b for b in GRADE_BANDS if b in member.bands)))
        batch.affiliations.extend(affiliations.values())
    batch.errors = sorted(bundle.errors, key=lambda e: (e.file, e.row))
    return batch


class OneRosterCsvSource:
    key = SOURCE_KEY
    title = "OneRoster 1.1 CSV bundle (orgs.csv, users.csv; enrollments.csv, classes.csv, roles.csv optional)"

    def read(self, files: Mapping[str, bytes], settings: Settings | None) -> RosterBatch:
        return read_bundle(files, settings)


@hookimpl
def register_roster_sources():
    return [OneRosterCsvSource()]


class _EnrollmentsWithSettings(ClassEnrollments):
    """The enrollments importer, its teacher ids derived with this plugin's `id_prefix`."""

    def __init__(self):
        super().__init__(lambda user: derive_id(Settings().id_prefix, user))

    def read(self, file, settings: Settings | None):
        settings = settings or Settings()
        reader = ClassEnrollments(lambda user: derive_id(settings.id_prefix, user), settings.school_codes,
                                  self.block_bytes)
        return reader.read(file, settings)


@hookimpl
def register_assessment_importers():
    return [_EnrollmentsWithSettings()]
