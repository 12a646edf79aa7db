"""Sizes the gateway, the services and the command line agree on.

A roster import's body is the largest request the API takes; every gRPC message that carries it
(the gateway's ImportRoster call, the plugins service's receive) must be allowed to be larger,
or an import the gateway accepted fails later with RESOURCE_EXHAUSTED.
"""

# A roster import's JSON body: its files' text, escaped.
ROSTER_IMPORT_MAX_BODY_BYTES = 16 << 20
# How long the gateway waits for a roster import (the plugins service's deadline); the command line
# waits a little longer, so the gateway's answer (a 504 problem at worst) is what it reports.
ROSTER_IMPORT_TIMEOUT_SECONDS = 600.0
# Any gRPC message, sent or received, by every service and client: a roster import's files plus
# its envelope (field names, ids), with room to spare; its answer lists at most 1,000 errors.
GRPC_MAX_MESSAGE_BYTES = ROSTER_IMPORT_MAX_BODY_BYTES + (4 << 20)
# Channel and server options: gRPC's own defaults receive at most 4 MiB.
GRPC_MESSAGE_OPTIONS = (("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_BYTES),
                        ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_BYTES))
