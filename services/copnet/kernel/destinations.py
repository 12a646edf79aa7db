"""Where plugins may connect: public addresses, and the networks an instance allows.

A region's lead configures where a notifier sends (an SMTP host, a webhook URL). Left unchecked,
that is a way to make copnet's processes talk to what only they can reach: loopback, the
cluster's private network, link-local cloud metadata (169.254.169.254). So a destination is
refused unless every address its name resolves to is public (`ipaddress`'s `is_global`, not
multicast) or inside COPNET_PLUGIN_ALLOWED_NETWORKS (an on-premises mail relay).

The check runs twice: when settings are saved (`check_destination`), and when connecting
(`connect_to_destination`), which resolves, checks, and then connects to the very address it checked, so a
name that resolves differently the second time (DNS rebinding) gains nothing. TLS is the
caller's, against the name (SNI, certificate), on the socket `connect` returns.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable

from copnet.kernel.settings import settings
from copnet.pluginapi import PluginError

log = logging.getLogger(__name__)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052).
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(PluginError, ValueError):
    """A host that does not resolve, or resolves to an address plugins may not reach.

    A ValueError, so a settings validator raising it is an ordinary field error. Its message is
    the same whatever the reason (a lead learns nothing of the internal network from it); the
    details are logged.
    """

    category = "destination refused"

    def __init__(self, message: str = "destination refused: the host must resolve, and only to public addresses "
                                      "(or to networks this instance allows)"):
        super().__init__(message)


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """COPNET_PLUGIN_ALLOWED_NETWORKS, as this process read it."""
    return settings().plugin_networks


def is_allowed(address: Address, networks: Iterable = ()) -> bool:
    """Whether a plugin may connect to `address`: public, or inside one of `networks`."""
    networks = tuple(networks)
    if any(address.version == network.version and address in network for network in networks):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address in IPv6 clothing is judged as the IPv4 address it reaches.
        embedded = address.ipv4_mapped or (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
                                           if address in NAT64 else None)
        if embedded is not None:
            return is_allowed(embedded, networks)
    return address.is_global and not address.is_multicast


def resolve_destination(host: str, port: int) -> list[tuple[int, tuple]]:
    """(family, socket address) for every address of `host`, each one allowed; DestinationRefused
    when the name does not resolve or any of its addresses is not allowed (a name mixing public
    and private addresses is refused whole)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        log.warning("destinations: %r does not resolve: %s", host, error)
        raise DestinationRefused() from None
    networks = allowed_networks()
    addresses = []
    for family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not is_allowed(address, networks):
            log.warning("destinations: %r is refused: it resolves to %s, which is neither public nor in "
                        "COPNET_PLUGIN_ALLOWED_NETWORKS", host, address)
            raise DestinationRefused()
        addresses.append((family, sockaddr))
    if not addresses:
        raise DestinationRefused()
    return addresses


def check_destination(host: str) -> None:
    """`resolve_destination` for a settings validator: raises DestinationRefused (a ValueError) or returns."""
    resolve_destination(host, 0)


def connect_to_destination(host: str, port: int, timeout: float | None, source_address: tuple[str, int] | None = None
            ) -> socket.socket:
    """A TCP connection to `host`, made to an address checked by `resolve_destination` (the first that
    answers, as `socket.create_connection` does)."""
    last: OSError | None = None
    for family, sockaddr in resolve_destination(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as error:
            sock.close()
            last = error
    assert last is not None
    raise last
