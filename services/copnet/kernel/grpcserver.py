"""gRPC server bootstrap shared by every service: health, reflection, interceptors, shutdown."""

from __future__ import annotations

import logging
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from copnet.kernel import auth, db, limits, tracing
from copnet.kernel.call_limits import UNCOUNTED_PREFIXES, CallAllowance, CallLimiter
from copnet.kernel.clients import CLIENT_METADATA_KEY
from copnet.kernel.errors import DomainError, Unavailable, to_rpc_status

log = logging.getLogger(__name__)

DEPENDENCY_MONGODB = "copnet.dependency.mongodb"
DEPENDENCY_NATS = "copnet.dependency.nats"


class PortInUse(RuntimeError):
    pass


def _wrap_unary(handler: grpc.RpcMethodHandler | None, wrapper) -> grpc.RpcMethodHandler | None:
    """Wrap the behaviour of a handler with one response: unary-unary, and client-streaming (an
    upload: `wrapper` gets the request iterator, so the caller is known before a chunk is read);
    handlers streaming responses (health Watch, reflection) pass through."""
    if handler is None or handler.response_streaming:
        return handler
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(wrapper(handler.stream_unary),
                                                    request_deserializer=handler.request_deserializer,
                                                    response_serializer=handler.response_serializer)
    return grpc.unary_unary_rpc_method_handler(wrapper(handler.unary_unary),
                                               request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)


class LoggingInterceptor(grpc.ServerInterceptor):
    """Logs every call with its method, outcome and duration."""

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method

        def wrapper(behaviour):
            def logged(request, context):
                started = time.perf_counter()
                outcome = "OK"
                try:
                    return behaviour(request, context)
                except Exception:
                    outcome = "ERROR"
                    raise
                finally:
                    code = context.code() if hasattr(context, "code") else None
                    if code is not None and code != grpc.StatusCode.OK:
                        outcome = code.name
                    log.info("%s %s %.1fms", method, outcome, (time.perf_counter() - started) * 1000)
            return logged

        return _wrap_unary(continuation(handler_call_details), wrapper)


class ErrorInterceptor(grpc.ServerInterceptor):
    """DomainError -> its status code with ErrorInfo; MongoDB unreachable -> UNAVAILABLE; else INTERNAL."""

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method

        def wrapper(behaviour):
            def mapped(request, context):
                try:
                    return behaviour(request, context)
                except DomainError as error:
                    context.abort_with_status(rpc_status.to_status(to_rpc_status(error)))
                except db.DATABASE_UNAVAILABLE as error:
                    log.warning("%s: database unavailable (%s)", method, type(error).__name__)
                    unavailable = Unavailable("the database is unavailable; try again shortly",
                                              reason="DATABASE_UNAVAILABLE")
                    context.abort_with_status(rpc_status.to_status(to_rpc_status(unavailable)))
                except Exception:
                    if context.code() is not None:
                        raise  # the servicer aborted with a status of its own
                    log.exception("%s failed unexpectedly", method)
                    context.abort(grpc.StatusCode.INTERNAL, "internal error (logged by the service)")
            return mapped

        return _wrap_unary(continuation(handler_call_details), wrapper)


class IdentityInterceptor(grpc.ServerInterceptor):
    """Verifies the caller's bearer token from metadata and makes it (and the trace context) the call's."""

    def __init__(self, verifier: auth.Verifier):
        self.verifier = verifier

    def intercept_service(self, continuation, handler_call_details):
        metadata = dict(handler_call_details.invocation_metadata or ())
        header = metadata.get(auth.METADATA_KEY)
        traceparent = metadata.get(tracing.METADATA_KEY)

        def wrapper(behaviour):
            def identified(request, context):
                token = auth.bearer_from_header(header)
                identity = self.verifier.verify(token) if token else None
                reset = auth.set_identity(identity)
                reset_trace = tracing.set_traceparent(traceparent)
                try:
                    return behaviour(request, context)
                finally:
                    tracing.reset_traceparent(reset_trace)
                    auth.reset_identity(reset)
            return identified

        return _wrap_unary(continuation(handler_call_details), wrapper)


class CallLimitInterceptor(grpc.ServerInterceptor):
    """Admits each unary call under its caller's allowance (kernel.call_limits). Inside the identity
    interceptor, so it counts the verified subject, never an unchecked claim; inside the error
    interceptor, which turns a refusal into RESOURCE_EXHAUSTED with its reason."""

    def __init__(self, limiter: CallLimiter):
        self.limiter = limiter

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler_call_details.method.startswith(UNCOUNTED_PREFIXES):
            return handler

        def wrapper(behaviour):
            def limited(request, context):
                client = dict(context.invocation_metadata()).get(CLIENT_METADATA_KEY)
                key, service = self.limiter.caller_of(auth.current_identity(), context.peer(), client)
                with self.limiter.admitted(key, service=service):
                    return behaviour(request, context)
            return limited

        return _wrap_unary(handler, wrapper)


class GrpcServer:
    def __init__(self, *, service_name: str, full_service_names: list[str], host: str, port: int,
                 verifier: auth.Verifier, workers: int, allowance: CallAllowance, queued_calls: int,
                 extra_service_names: list[str] = ()):
        self.service_name = service_name
        self.full_service_names = full_service_names
        # Served too (and listed by reflection), but not part of the service's own health.
        self.extra_service_names = list(extra_service_names)
        self.limiter = CallLimiter(allowance)
        # Outermost first: log, map errors (including identity errors), identify, then count the
        # caller's calls in flight. Calls beyond the workers wait in the pool's queue, at most
        # `queued_calls` of them: past that gRPC refuses a call at once (RESOURCE_EXHAUSTED)
        # instead of queueing without bound behind calls that may never be served in time.
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"grpc-{service_name}"),
            interceptors=[LoggingInterceptor(), ErrorInterceptor(), IdentityInterceptor(verifier),
                          CallLimitInterceptor(self.limiter)],
            options=[("grpc.so_reuseport", 0), *limits.GRPC_MESSAGE_OPTIONS],
            maximum_concurrent_rpcs=workers + queued_calls)
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.address = f"{host}:{port}"
        self.port = port

    def start(self) -> None:
        names = [*self.full_service_names, *self.extra_service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        try:
            bound = self.server.add_insecure_port(self.address)
        except RuntimeError:
            bound = 0
        if not bound:
            raise PortInUse(f"{self.service_name}: cannot listen on {self.address} (port in use?)")
        self.port = bound  # the one chosen when asked for port 0
        self.server.start()

    def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self.full_service_names):
            self.health.set(name, status)

    def set_dependency(self, name: str, up: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if up else health_pb2.HealthCheckResponse.NOT_SERVING
        self.health.set(name, status)

    def stop(self, grace: float) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
