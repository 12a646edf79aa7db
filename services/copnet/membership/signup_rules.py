"""The sign-up rules a person's registration and a school team's share: the community takes
sign-ups now, the person is eligible, the plugins enabled for the community allow it, and the
person holds no live registration there yet. Checked before queueing for the seat ledger, and
again on the community as re-read inside the transaction."""

from __future__ import annotations

import logging

from copnet.kernel import db
from copnet.kernel.enums import GRADE_BAND_SPELLING
from copnet.kernel.errors import AlreadyExists, FailedPrecondition
from copnet.kernel.service import ServiceContext
from copnet.membership import eligibility
from copnet.membership.models import Community, Person, Registration
from copnet.pluginapi import SignupAffiliation, SignupAttempt, SignupCommunity, SignupPerson

log = logging.getLogger(__name__)


def active_key(community_id: str, person_id: str) -> str:
    return f"{community_id} {person_id}"


def check_signup_open(community: Community, now) -> bool:
    """Raises unless sign-up is taking people now; True while the waiting list is open too."""
    if community.status != "open":
        raise FailedPrecondition(f"community {community.id!r} is {community.status}: sign-up needs it open",
                                 reason="SIGNUP_NOT_OPEN")
    window = community.signup_window
    if window is None or now < window.opens_at:
        opens = f" until {window.opens_at.isoformat()}" if window else ""
        raise FailedPrecondition(f"sign-up for {community.id!r} is not open yet{opens}", reason="SIGNUP_NOT_YET_OPEN")
    if now >= window.closes_at:
        raise FailedPrecondition(f"sign-up for {community.id!r} closed at {window.closes_at.isoformat()}",
                                 reason="SIGNUP_CLOSED")
    return window.soft_deadline is None or now < window.soft_deadline


def check_eligible(person: Person, community: Community, field: str = "person_id") -> None:
    rules = community.eligibility
    why = eligibility.ineligibility(person, rules.positions if rules else [], rules.organization_ids if rules else [])
    if why:
        raise FailedPrecondition(f"{person.id} is not eligible for {community.id!r}: {why}", reason="NOT_ELIGIBLE",
                                 metadata={"field": field})


def signup_attempt(person: Person, community: Community, team_id: str = "") -> SignupAttempt:
    """The frozen snapshot `validate_registration` plugins see: this person and community only."""
    return SignupAttempt(
        person=SignupPerson(
            id=person.id,
            grade_bands=plugin_grade_bands(person.grade_bands),
            affiliations=tuple(
                SignupAffiliation(organization_id=a.organization_id, position=a.position, scope=tuple(a.scope))
                for a in person.affiliations
            ),
        ),
        community=SignupCommunity(
            id=community.id,
            kind=community.kind,
            host_organization_id=community.host_organization_id,
            region_id=community.region_id or "",
            county_office_id=community.county_office_id or "",
            grade_bands=plugin_grade_bands(community.grade_bands),
            scope=tuple(community.scope),
        ),
        team_id=team_id,
    )


def plugin_grade_bands(labels) -> tuple[str, ...]:
    """Stored labels (`k_2`) in the spelling plugins get (`K-2`, as in the REST API)."""
    return tuple(GRADE_BAND_SPELLING[label] for label in labels)


def check_plugins_allow(
    ctx: ServiceContext, person: Person, community: Community, team_id: str = "", field: str = "person_id"
) -> None:
    """Ask the plugins enabled for the community's scope; any reason they give refuses the sign-up.

    A plugin that raises or times out is skipped by the host: that is not a refusal.
    """
    attempt = signup_attempt(person, community, team_id)
    vetoes = []
    for result in ctx.plugins.call("validate_registration", scope=community.scope, attempt=attempt):
        if isinstance(result.value, str):
            if result.value.strip():
                vetoes.append((result.plugin, result.value.strip()))
        else:
            log.warning(
                "plugins: %s.validate_registration returned %s, not a reason or None; ignored",
                result.plugin,
                type(result.value).__name__,
            )
    if vetoes:
        reasons = "; ".join(f"plugin {plugin}: {reason}" for plugin, reason in vetoes)
        raise FailedPrecondition(
            f"the sign-up of {person.id} for {community.id!r} is refused by {reasons}",
            reason="PLUGIN_VETO",
            metadata={"field": field, "plugin": vetoes[0][0], "plugins": ",".join(p for p, _ in vetoes)},
        )


def check_not_registered(uow: db.UnitOfWork, community_id: str, person_id: str) -> None:
    if uow.find_one(Registration, {"active_key": active_key(community_id, person_id)}) is not None:
        raise already_registered(community_id, person_id)


def already_registered(community_id: str, person_id: str) -> AlreadyExists:
    return AlreadyExists(f"{person_id} is already registered for {community_id!r}", reason="ALREADY_REGISTERED")
