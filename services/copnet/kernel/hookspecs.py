"""Every plugin hook copnet calls, in one place (the contract between copnet and its plugins).

A plugin is a module or object with functions named after these hooks and decorated with
`copnet.hookimpl`, registered under the `copnet` entry-point group. copnet calls each
implementation on its own, time-bounded, and goes on without one that raises or hangs
(copnet.kernel.plugins).
"""

from __future__ import annotations

import pluggy

PROJECT = "copnet"
# Plugins declare the hookspec version they target; bumped when a hook changes incompatibly.
HOOKSPEC_VERSION = 1

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_session_types():
    """Return a list of session types this plugin offers communities.

    Called by the scheduling service when it lists session types. Each item is a dict with
    ``key`` (unique, lower-case, e.g. ``"regular_convening"``), ``title``, ``description`` and
    ``default_duration_minutes`` (1..1440). Every plugin's list is collected; a duplicate key is
    dropped with a warning naming both plugins.
    """
