"""The HTTP API's JSON shapes, one module per area (`common` holds what they share).

Routes import their area's module; the names re-exported here are the shared ones.
"""

from copnet.gateway.schemas.common import (CommunityKind, CommunityStatus, FieldError, GradeBand, IdPath,
                                           OrganizationKind, Page, Position, Problem, ProposalStatus,
                                           RegistrationStatus, Role, Strict, TeamKind, TeamRole)

__all__ = ["CommunityKind", "CommunityStatus", "FieldError", "GradeBand", "IdPath", "OrganizationKind", "Page",
           "Position", "Problem", "ProposalStatus", "RegistrationStatus", "Role", "Strict", "TeamKind", "TeamRole"]
