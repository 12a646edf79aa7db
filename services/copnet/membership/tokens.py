"""Revoked bearer tokens: a platform admin revokes one by its id (`jti`), every service refuses it
(`copnet.kernel.revocations`). Membership keeps the list because it keeps the grants a token
carries; a revoked id is kept until no token with it can still be unexpired.
"""

from __future__ import annotations

import datetime as dt
import re

import mongoengine as me

from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.errors import InvalidArgument, PermissionDenied
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2

TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class RevokedToken(me.Document):
    id = me.StringField(primary_key=True)  # the token's jti
    revoked_by = me.StringField(default="")
    revoked_at = me.DateTimeField(required=True)
    # A token lives at most the instance's cap after it was issued, which was before it was revoked.
    expires_at = me.DateTimeField(required=True)
    meta = {"collection": "revoked_tokens", "indexes": ["expires_at"]}


def revoked_token_ids() -> list[str]:
    """The ids still worth refusing (what membership's own verifier checks)."""
    return [doc.id for doc in RevokedToken.objects(expires_at__gt=db.utcnow()).only("id")]


def revoked_message(doc: RevokedToken) -> membership_pb2.RevokedToken:
    return membership_pb2.RevokedToken(token_id=doc.id, revoked_by=doc.revoked_by,
                                       revoke_time=timestamp(doc.revoked_at), expire_time=timestamp(doc.expires_at))


class TokensApi:
    ctx: ServiceContext

    def RevokeToken(self, request: membership_pb2.RevokeTokenRequest, _context) -> membership_pb2.RevokeTokenResponse:
        identity = auth.require({Role.PLATFORM_ADMIN}, [], "revoking a token")
        if not TOKEN_ID.match(request.token_id):
            raise InvalidArgument.for_field("token_id", "is a token's id (its jti): 1 to 128 letters, digits, - or _")
        now = db.utcnow()
        keep = dt.timedelta(seconds=self.ctx.settings.token_max_seconds + auth.CLOCK_SKEW_SECONDS)
        # Revoking twice keeps the first record.
        RevokedToken.objects(id=request.token_id).update_one(
            upsert=True, set_on_insert__revoked_by=identity.person_id, set_on_insert__revoked_at=now,
            set_on_insert__expires_at=now + keep)
        RevokedToken.objects(expires_at__lte=now).delete()
        return membership_pb2.RevokeTokenResponse(revoked=revoked_message(RevokedToken.objects.get(id=request.token_id)))

    def ListRevokedTokens(self, request: membership_pb2.ListRevokedTokensRequest,
                          _context) -> membership_pb2.ListRevokedTokensResponse:
        identity = auth.require_authenticated("listing revoked tokens")
        if not (auth.is_service(identity) or identity.may({Role.PLATFORM_ADMIN}, [])):
            raise PermissionDenied("listing revoked tokens is for services and platform admins", reason="OUT_OF_SCOPE")
        found = RevokedToken.objects(expires_at__gt=db.utcnow()).order_by("revoked_at")
        return membership_pb2.ListRevokedTokensResponse(revoked=[revoked_message(doc) for doc in found])
