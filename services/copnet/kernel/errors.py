"""Domain errors, and their one mapping to gRPC status (google.rpc.Status + ErrorInfo).

Services raise these; the gRPC error interceptor turns them into status codes with a
machine-readable reason; the gateway turns those into problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

ERROR_DOMAIN = "copnet"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base class: a rule the caller broke, with a stable UPPER_SNAKE reason.

    Without a `reason`, the reason is the class's `default_reason`, or else the status code's
    name ("NOT_FOUND"): a subclass states only its code unless its reason says more.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason: str | None = None

    def __init__(self, message: str, *, reason: str | None = None,
                 fields: list[FieldViolation] | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason or self.code.name
        self.fields = list(fields or [])
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    @classmethod
    def for_field(cls, field: str, description: str, *, reason: str = "INVALID_FIELD") -> "InvalidArgument":
        return cls(f"{field}: {description}", reason=reason, fields=[FieldViolation(field, description)])


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unavailable(DomainError):
    """A dependency is down; the call may succeed if retried later."""

    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


def to_rpc_status(error: DomainError) -> status_pb2.Status:
    """The google.rpc.Status carried in grpc-status-details-bin."""
    details = []
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
    details.append(info)
    if error.fields:
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f.field, description=f.description)
            for f in error.fields
        ]))
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    return status_pb2.Status(code=getattr(code_pb2, error.code.name), message=error.message, details=packed)


@dataclass(frozen=True)
class RpcErrorDetails:
    """What a client learns from a failed call: code, message, reason, field violations."""

    code: grpc.StatusCode
    message: str
    reason: str | None
    fields: list[FieldViolation]


def details_of(error: grpc.RpcError) -> RpcErrorDetails:
    from grpc_status import rpc_status

    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None
    reason, fields = None, []
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields = [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return RpcErrorDetails(error.code(), error.details() or "", reason, fields)
