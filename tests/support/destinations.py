"""Fixtures for plugins that connect somewhere: the instance's allowed networks, and names that
resolve without a DNS server (tests never depend on the network's resolver).

Import the fixtures into a test module (`from tests.support.destinations import allow_loopback`).
"""

from __future__ import annotations

import socket

import pytest

from copnet.kernel import destinations
from copnet.kernel.settings import settings

LOOPBACK = "127.0.0.0/8,::1/128"
# A public address (outside every special-purpose range) that tests resolve made-up names to;
# nothing ever connects to it.
PUBLIC_ADDRESS = "93.184.215.14"


def set_allowed_networks(monkeypatch: pytest.MonkeyPatch, networks: str) -> None:
    """COPNET_PLUGIN_ALLOWED_NETWORKS for this test (the process's settings are read again)."""
    if networks:
        monkeypatch.setenv("COPNET_PLUGIN_ALLOWED_NETWORKS", networks)
    else:
        monkeypatch.delenv("COPNET_PLUGIN_ALLOWED_NETWORKS", raising=False)
    settings.cache_clear()


@pytest.fixture
def allow_loopback(monkeypatch):
    """Loopback allowed, as the tests' local SMTP and HTTP servers need."""
    set_allowed_networks(monkeypatch, LOOPBACK)
    yield
    settings.cache_clear()


@pytest.fixture
def no_allowed_networks(allow_loopback, monkeypatch):
    """Public addresses only: the default of an instance (after `allow_loopback`, in a module
    that allows loopback for its other tests)."""
    set_allowed_networks(monkeypatch, "")
    yield
    settings.cache_clear()


@pytest.fixture
def resolve(monkeypatch):
    """`resolve({"smtp.example.org": ["93.184.215.14"]})`: these names resolve to these addresses
    (others resolve as usual); returns the names asked for, in order."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def install(names: dict[str, list[str]]) -> list[str]:
        def getaddrinfo(host, port, *args, **kwargs):
            asked.append(host)
            if host not in names:
                return real(host, port, *args, **kwargs)
            found = []
            for address in names[host]:
                if ":" in address:
                    found.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)))
                else:
                    found.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)))
            return found

        monkeypatch.setattr(destinations.socket, "getaddrinfo", getaddrinfo)
        return asked

    return install
