"""How other processes (the hub's gateway) call the statewide service."""

from copnet.kernel.clients import ServiceClientSpec
from copnet.statewide.v1 import statewide_pb2, statewide_pb2_grpc

STATEWIDE = ServiceClientSpec(
    name="statewide", full_name=statewide_pb2.DESCRIPTOR.services_by_name["StatewideService"].full_name,
    stub_class=statewide_pb2_grpc.StatewideServiceStub)
