"""Event reactions: one durable consumer per plugin that implements `react_to_event`.

A plugin subscribes with fnmatch patterns; each becomes the narrowest NATS filter that contains
it (exact where the pattern is whole tokens and `*`), and the handler matches the event type
precisely. The plugin is called only when it is enabled for the event's scope, through the
plugin host (time-bounded, failures counted there): a failed reaction is not retried.
"""

from __future__ import annotations

import copy
import fnmatch
import logging
import re
from collections.abc import Iterable

from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.events import CloudEvent
from copnet.pluginapi import EventView

log = logging.getLogger(__name__)
EVENT_TYPE_TOKENS = 4  # copnet.<service>.<entity>.<verb>
_WILDCARD = re.compile(r"[*?\[\]]")
_TOKEN = re.compile(r"^[A-Za-z0-9_]+$")


def nats_filter(pattern: str) -> str:
    """The NATS filter (region left out: `copnet.<...>`) that receives every type `pattern` matches."""
    tokens = pattern.split(".")
    if (len(tokens) == EVENT_TYPE_TOKENS and tokens[0] == "copnet"
            and all(t == "*" or _TOKEN.match(t) for t in tokens[1:])):
        return pattern  # exact: a fnmatch `*` between literal dots of a 4-token type is one token
    literal = []
    for token in tokens:
        if _WILDCARD.search(token) or not _TOKEN.match(token):
            break
        literal.append(token)
    if not literal or literal[0] != "copnet":
        return "copnet.>"
    if len(literal) >= EVENT_TYPE_TOKENS:
        return ".".join(literal[:EVENT_TYPE_TOKENS])  # a type with a suffix matches nothing anyway
    return ".".join([*literal, ">"])


def _covers(wide: str, narrow: str) -> bool:
    wide_tokens, narrow_tokens = wide.split("."), narrow.split(".")
    for index, token in enumerate(wide_tokens):
        if token == ">":
            return len(narrow_tokens) > index
        if index >= len(narrow_tokens):
            return False
        if token != "*" and token != narrow_tokens[index]:
            return False
        if token == "*" and narrow_tokens[index] == ">":
            return False
    return len(wide_tokens) == len(narrow_tokens)


def nats_filters(patterns: Iterable[str]) -> list[str]:
    """Filters without overlaps (JetStream refuses a consumer whose filters overlap)."""
    filters = sorted({nats_filter(p) for p in patterns})
    return [f for f in filters if not any(other != f and _covers(other, f) for other in filters)]


def matches(patterns: Iterable[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


def consumer_name(plugin: str) -> str:
    """`plugin-<name>`, with what NATS does not allow in a durable name replaced."""
    return "plugin-" + re.sub(r"[^A-Za-z0-9_-]", "_", plugin)


def event_view(event: CloudEvent) -> EventView:
    return EventView(id=event.id, type=event.type, source=event.source, subject=event.subject, time=event.time,
                     data=copy.deepcopy(event.data), scope=tuple(event_scope(event)))


def event_scope(event: CloudEvent) -> list[str]:
    # CloudEvent parses the `copnetscope` header into a tuple (kernel.events.parse_scope).
    return [org for org in event.scope if org]


def subscribed_patterns(host) -> dict[str, list[str]]:
    """Each loaded plugin implementing react_to_event -> its patterns (empty ones are left out)."""
    reacting = {name for name in _implementers(host, "react_to_event")}
    patterns: dict[str, list[str]] = {}
    for result in host.call("subscribed_event_types"):
        if result.plugin not in reacting:
            continue
        value = result.value
        if isinstance(value, str):
            value = [value]
        wanted = [p for p in value if isinstance(p, str) and p] if isinstance(value, (list, tuple)) else []
        if wanted:
            patterns[result.plugin] = wanted
        else:
            log.warning("plugins: %s reacts to events but subscribes to none; no consumer", result.plugin)
    return patterns


def _implementers(host, hook: str) -> list[str]:
    for description in host.describe():
        if hook in (getattr(description, "hooks", None) or ()):
            yield description.name


def reaction_handler(host, plugin: str, patterns: list[str]):
    def handle(_uow: db.UnitOfWork, event: CloudEvent) -> None:
        if not matches(patterns, event.type):
            return
        scope = event_scope(event)
        if not scope:
            return  # an event without a scope belongs to no region: no plugin configuration applies
        host.call("react_to_event", scope=scope, only=(plugin,), event=event_view(event))

    return handle


def reaction_subscriptions(host) -> list[Subscription]:
    return [Subscription(consumer_name(plugin), tuple(nats_filters(patterns)), reaction_handler(host, plugin, patterns))
            for plugin, patterns in sorted(subscribed_patterns(host).items())]
