"""An in-process stand-in for a gRPC channel: every call recorded and answered by a Python function,
so the kernel's client interceptors (metadata, deadline) and a caller's own run as in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc


@dataclass
class RecordedCall:
    method: str  # the RPC's name, e.g. "GetCommunity"
    request: object
    token: str | None
    traceparent: str | None
    timeout: float | None


class FakeChannel(grpc.Channel):
    """Calls go to `answer(call)`: what it returns is the reply, what it raises (a grpc.RpcError) the failure."""

    def __init__(self, answer: Callable[[RecordedCall], object]):
        self.answer = answer
        self.calls: list[RecordedCall] = []

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _UnaryUnary(self, method.rsplit("/", 1)[-1])

    # Streaming calls are not faked (copnet has none but health's Watch, made and never called).
    def unary_stream(self, *args, **kwargs):
        return _unsupported

    def stream_unary(self, *args, **kwargs):
        return _unsupported

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
    def __init__(self, channel: FakeChannel, method: str):
        self.channel, self.method = channel, method

    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                 compression=None):
        return self.with_call(request, timeout, metadata)[0]

    def with_call(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None,
                  compression=None):
        sent = dict(metadata or ())
        authorization = sent.get("authorization")
        call = RecordedCall(self.method, request, authorization.removeprefix("Bearer ") if authorization else None,
                            sent.get("traceparent"), timeout)
        self.channel.calls.append(call)
        return self.channel.answer(call), None

    def future(self, *args, **kwargs):
        raise NotImplementedError
