"""copnet: statewide networks of math Communities of Practice.

Plugin authors import what they need from here: `hookimpl` and the types in `copnet.pluginapi`.
"""

from copnet.kernel.hookspecs import hookimpl
from copnet.pluginapi import (GRADE_BANDS, NOTIFY_BUDGET_SECONDS, AssessmentImporter, CalendarExporter, CalendarFeed,
                              DashboardPanel, EventView, FeedEvent, FeedOverride, Notification, NotificationPerson,
                              Notifier, PluginContext, PluginSettings, ReflectionMetric, RosterAffiliation, RosterBatch,
                              RosterOrganization, RosterPerson, RosterRowError, RosterSource, SessionType,
                              SignupAffiliation, SignupAttempt, SignupCommunity, SignupPerson)

__version__ = "0.1.0"
__all__ = ["GRADE_BANDS", "NOTIFY_BUDGET_SECONDS", "AssessmentImporter", "CalendarExporter", "CalendarFeed",
           "DashboardPanel", "EventView", "FeedEvent", "FeedOverride", "Notification", "NotificationPerson",
           "Notifier", "PluginContext", "PluginSettings", "ReflectionMetric", "RosterAffiliation", "RosterBatch",
           "RosterOrganization", "RosterPerson", "RosterRowError", "RosterSource", "SessionType", "SignupAffiliation",
           "SignupAttempt", "SignupCommunity", "SignupPerson", "__version__", "hookimpl"]
