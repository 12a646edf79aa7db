"""An in-process stand-in for a gRPC channel: every call recorded and answered by a Python function,
so the kernel's client interceptors (metadata, deadline) and a caller's own run as in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from grpc_status import rpc_status

from copnet.kernel.errors import DomainError, to_rpc_status


@dataclass
class RecordedCall:
    service: str  # the proto service, e.g. "copnet.membership.v1.MembershipService"
    method: str  # the RPC's name, e.g. "GetCommunity"
    request: object
    token: str | None
    traceparent: str | None
    timeout: float | None


class FakeRpcError(grpc.RpcError, grpc.Call, grpc.Future):
    """What a failed unary call raises (like gRPC's own, a finished call and future), with the rich
    status the kernel's server interceptor attaches."""

    def __init__(self, code: grpc.StatusCode, message: str = "", trailing=()):
        self._code, self._message, self._trailing = code, message, tuple(trailing)

    @classmethod
    def of(cls, error: DomainError) -> "FakeRpcError":
        status = rpc_status.to_status(to_rpc_status(error))
        return cls(status.code, status.details, status.trailing_metadata)

    @classmethod
    def like(cls, error: grpc.RpcError) -> "FakeRpcError":
        """`error` (any RpcError a fake raised) as a finished call."""
        if isinstance(error, cls):
            return error
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else ""
        return cls(code, details, error.trailing_metadata() if hasattr(error, "trailing_metadata") else ())

    def code(self):
        return self._code

    def details(self):
        return self._message

    def trailing_metadata(self):
        return self._trailing

    def result(self, timeout=None):
        raise self

    def exception(self, timeout=None):
        return self

    def traceback(self, timeout=None):
        return None

    # The remaining abstract methods of a finished call: never used.
    def initial_metadata(self):
        return ()

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def cancel(self):
        return False

    def cancelled(self):
        return False

    def running(self):
        return False

    def done(self):
        return True

    def add_callback(self, callback):
        return False

    def add_done_callback(self, fn):
        fn(self)


class FakeChannel(grpc.Channel):
    """Calls go to `answer(call)`: what it returns is the reply, what it raises (a grpc.RpcError) the
    failure, as gRPC raises it (a `FakeRpcError`)."""

    def __init__(self, answer: Callable[[RecordedCall], object]):
        self.answer = answer
        self.calls: list[RecordedCall] = []

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _UnaryUnary(self, *method.lstrip("/").rsplit("/", 1))

    # Client-streaming calls (an upload) are answered like unary ones, the request being the list of
    # messages sent; server streaming is not faked (copnet has none but health's Watch, never called).
    def unary_stream(self, *args, **kwargs):
        return _unsupported

    def stream_unary(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _StreamUnary(self, *method.lstrip("/").rsplit("/", 1))

    def stream_stream(self, *args, **kwargs):
        return _unsupported

    def subscribe(self, callback, try_to_connect=False):
        pass

    def unsubscribe(self, callback):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _unsupported(*args, **kwargs):
    raise NotImplementedError("streaming calls are not faked")


class _UnaryUnary(grpc.UnaryUnaryMultiCallable):
    def __init__(self, channel: FakeChannel, service: str, method: str):
        self.channel, self.service, self.method = channel, service, method

    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        return self.with_call(request, timeout, metadata)[0]

    def with_call(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                  compression=None):
        sent = dict(metadata or ())
        authorization = sent.get("authorization")
        call = RecordedCall(self.service, self.method, request, authorization.removeprefix("Bearer ") if authorization else None,
                            sent.get("traceparent"), timeout)
        self.channel.calls.append(call)
        try:
            return self.channel.answer(call), None
        except grpc.RpcError as error:
            raise FakeRpcError.like(error) from None

    def future(self, *args, **kwargs):
        raise NotImplementedError


class _StreamUnary(grpc.StreamUnaryMultiCallable):
    """The messages are drawn from the iterator first, as gRPC sends them, then answered at once."""

    def __init__(self, channel: FakeChannel, service: str, method: str):
        self.unary = _UnaryUnary(channel, service, method)

    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        return self.with_call(request_iterator, timeout, metadata)[0]

    def with_call(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                  compression=None):
        return self.unary.with_call(list(request_iterator), timeout, metadata)

    def future(self, *args, **kwargs):
        raise NotImplementedError


def clients_answered_by(settings=None, **answers: Callable[[RecordedCall], object]):
    """The kernel's `Clients` with service `name` answered in-process by `answers[name](call)`."""
    from copnet.kernel.clients import Clients
    from copnet.kernel.settings import load_settings

    return Clients(settings or load_settings(), open_channel=lambda spec, address: FakeChannel(answers[spec.name]))
