"""Every plugin hook copnet calls, in one place: the contract between copnet and its plugins.

A plugin is a module (or object) registered under the `copnet` entry-point group, declaring
`COPNET_HOOKSPEC_VERSION` and optionally a `Settings` class (a `copnet.PluginSettings`), with
functions named after the hooks below and decorated with `copnet.hookimpl`. An implementation
takes only the arguments it names, so hooks can gain arguments without breaking plugins.

copnet calls each implementation on its own, in a worker thread with a deadline: one that
raises or hangs is logged with the plugin's name, counted and skipped, and the call goes on
(copnet.kernel.plugin_host). No hook is `firstresult`: every enabled plugin's answer is collected.

Per-region hooks (they take `settings` and `context`) run only for plugins enabled in the
configuration that applies to the call's target: the deepest organization in the target's
scope (a county office's configuration overrides its region's). `settings` is that
configuration's validated `Settings` (None for a plugin without one); `context` is a
`copnet.PluginContext`. Registration hooks (`register_*` without `settings`) are called once per
process for every installed plugin.
"""

from __future__ import annotations

import pluggy

PROJECT = "copnet"
# Plugins declare the version they target; it changes only when a hook changes incompatibly
# (adding an argument does not: implementations take the arguments they name).
HOOKSPEC_VERSION = 2

# What an implementation of a veto hook answers in its stead when it fails (raises, times out,
# or its plugin's stored settings no longer validate) and its plugin declares
# `COPNET_FAILS_CLOSED = True`: the refusal, as the hook would return it.
FAIL_CLOSED_ANSWERS = {
    "validate_registration": "its rules could not be checked just now, so the sign-up is refused; try again later",
}

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- session types (scheduling) -----------------------------------------------------------------
@hookspec
def register_session_types(settings, context):
    """Return the session types this plugin offers communities in this region.

    Called by the scheduling service when it lists session types for a community or validates a
    new session, with the community's scope. Returns a list of `copnet.SessionType` (or dicts of
    the same shape). Keys must be unique across plugins: a duplicate is dropped with a warning
    naming both plugins.
    """


# -- sign-up validation (membership) ------------------------------------------------------------
@hookspec
def validate_registration(attempt, settings, context):
    """Return a human-readable reason to refuse this sign-up, or None to let it through.

    Called by the membership service before a sign-up takes a seat (Register, and RegisterTeam
    once per member), with a `copnet.SignupAttempt` and the community's scope. Any plugin's
    reason refuses it (FAILED_PRECONDITION `PLUGIN_VETO`, the message names the plugin). An
    exception or a time-out is not a refusal (the sign-up goes on without this plugin) unless
    the plugin declares `COPNET_FAILS_CLOSED = True`: then it refuses with
    `FAIL_CLOSED_ANSWERS["validate_registration"]`, and it is never switched off automatically.
    """


# -- event reactions (plugins service) ----------------------------------------------------------
@hookspec
def subscribed_event_types():
    """Return the event types this plugin reacts to, as fnmatch patterns.

    Called once by the plugins service at start, e.g.
    `["copnet.membership.registration.*", "copnet.scheduling.session.scheduled"]`.
    """


@hookspec
def react_to_event(event, settings, context):
    """React to one domain event (a `copnet.EventView`); the return value is ignored.

    Called by the plugins service from this plugin's own durable consumer, after the request
    that caused the event has been answered, so a slow plugin never slows a request. Only events
    matching `subscribed_event_types` whose scope has the plugin enabled arrive here. An event
    is delivered at least once: a plugin that must not act twice keys on `event.id`.
    """


# -- roster sources (plugins service) -----------------------------------------------------------
@hookspec
def register_roster_sources():
    """Return the roster sources this plugin provides (objects with `key`, `title` and
    `read(files, settings) -> copnet.RosterBatch`).

    Called by the plugins service when it lists sources and before an import, which calls
    `read` with the uploaded files (name -> bytes) and writes the batch through membership.
    """


# -- scheduling ---------------------------------------------------------------------------------
@hookspec
def register_calendar_exporters():
    """Return `copnet.CalendarExporter` objects (each with `key`, `media_type`, `file_extension`
    and `export(calendar, settings) -> bytes`).

    Called by scheduling when a calendar feed is fetched, for the plugins enabled in the
    community's scope (a person's feed: their first community's). The exporter whose `key` the
    feed asks for (`?format=`, default `ics`) gets a `copnet.CalendarFeed` and the plugin's
    settings there; its `export` runs isolated and time-bounded like a hook. Keys are unique: a
    second exporter with a taken key is skipped and logged.
    """


@hookspec
def register_notifiers():
    """Return `copnet.Notifier` objects (each with `key` and `notify(notification, settings)`).

    Called by scheduling for each `session.reminder` it emitted, for the plugins enabled in the
    community's scope. Every notifier returned gets the `copnet.Notification` (one person, a
    ready-to-send subject and body, the event's data); `notify` runs isolated and time-bounded,
    and raising counts as a failure of that plugin. Results are collected: all notifiers deliver.
    """


@hookspec
def register_assessment_importers():
    """Return `copnet.AssessmentImporter` objects (reflection's assessment data sets)."""


@hookspec
def register_reflection_metrics():
    """Return `copnet.ReflectionMetric` objects (reflection's participation and gap metrics)."""


# -- gateway ------------------------------------------------------------------------------------
@hookspec
def register_gateway_blueprints():
    """Return Flask blueprints; the gateway mounts each under `/plugins/<plugin name>/`.

    Called once by each gateway process at start, for every installed plugin (routes are
    instance-wide: a view that acts for a region checks the caller and the region itself). They
    are outside the documented `/api/v1` API; a view that raises answers a 500 problem.
    """


@hookspec
def register_dashboard_panels(settings, context):
    """Return `copnet.DashboardPanel` objects for this region's dashboard.

    Called when `GET /api/v1/regions/{region}/dashboard` is read, with the region's scope.
    """
