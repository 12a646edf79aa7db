"""Which of a community's sessions and occurrences a reader may see.

An all-members session is readable by every signed-in caller. A leaders-only or a team session,
with its meeting link, is shown only to those it is for and those who run it: the community's
facilitators and the managers over its host see every session; any other person sees, besides
the all-members ones, the sessions they facilitate, the leaders-only ones when they lead (a lead
or administrator of one of the community's teams, or a site, district or county leader by
position) and their own team's, as long as they are a confirmed member. The same people a
session's reminders and a person's feed are for (directory.expected_attendees); to everybody else
such a session does not exist (404, absent from lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copnet.kernel.auth import Identity
from copnet.scheduling import access
from copnet.scheduling.directory import CommunityFacts, Directory

OPEN_AUDIENCE = "all_members"


@dataclass(frozen=True)
class Sight:
    """What one reader sees of one community's sessions (and their occurrences)."""

    everything: bool
    person_id: str = ""
    leads: bool = False
    team_ids: frozenset[str] = frozenset()

    def sees(self, audience: str, team_id: str, facilitator_ids: Sequence[str]) -> bool:
        if self.everything or audience == OPEN_AUDIENCE or (self.person_id and self.person_id in facilitator_ids):
            return True
        if audience == "leaders_only":
            return self.leads
        return audience == "team" and team_id in self.team_ids

    def query(self) -> dict | None:
        """A MongoDB filter for what this reader sees (sessions and occurrences alike); None: all."""
        if self.everything:
            return None
        clauses: list[dict] = [{"audience": OPEN_AUDIENCE}]
        if self.person_id:
            clauses.append({"facilitator_ids": self.person_id})
        if self.leads:
            clauses.append({"audience": "leaders_only"})
        if self.team_ids:
            clauses.append({"audience": "team", "team_id": {"$in": sorted(self.team_ids)}})
        return {"$or": clauses}


def sight_of_person(directory: Directory, person_id: str, community: CommunityFacts) -> Sight:
    """What `person_id` sees of `community`'s sessions by taking part in it (not by a role)."""
    if person_id in community.facilitator_ids:
        return Sight(everything=True)
    if not person_id or person_id not in directory.members(community.id):
        return Sight(everything=False, person_id=person_id)
    teams = directory.teams(community.id)
    leads = person_id in directory.team_leaders(teams) or directory.holds_leading_position(person_id)
    own_teams = frozenset(team.id for team in teams if any(m.person_id == person_id for m in team.members))
    return Sight(everything=False, person_id=person_id, leads=leads, team_ids=own_teams)


def sight_of(directory: Directory, identity: Identity, community: CommunityFacts) -> Sight:
    """What the caller sees: everything when they run the community, else as a participant."""
    if access.may_manage_community(identity, community):
        return Sight(everything=True)
    return sight_of_person(directory, identity.person_id, community)
