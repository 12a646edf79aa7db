"""copnet: statewide networks of math Communities of Practice.

Plugin authors import what they need from here: `hookimpl`, the types in `copnet.pluginapi`, and
the destination checks of `copnet.kernel.destinations` (where a plugin may connect).
"""

from copnet.kernel.destinations import DestinationRefused, check_destination, connect_to_destination
from copnet.kernel.hookspecs import hookimpl
from copnet.pluginapi import (ASSESSMENT_KINDS, GRADE_BANDS, NOTIFY_BUDGET_SECONDS, AssessmentBatch, AssessmentFile,
                              AssessmentImporter, AssessmentRowError, CalendarExporter, CalendarFeed, MeasureCellView,
                              MetricValue,
                              DashboardPanel, EventView, FeedEvent, FeedOverride, Notification, NotificationPerson,
                              Notifier, PluginContext, PluginError, PluginSettings, ReflectionMetric, RosterAffiliation,
                              RosterBatch, RosterOrganization, RosterPerson, RosterRowError, RosterSource, SessionType,
                              SignupAffiliation, SignupAttempt, SignupCommunity, SignupPerson, UnusableInput, saving,
                              secret_bound_to)

__version__ = "0.1.0"
__all__ = ["ASSESSMENT_KINDS", "AssessmentBatch", "AssessmentFile", "AssessmentRowError", "MeasureCellView",
           "MetricValue", "GRADE_BANDS", "NOTIFY_BUDGET_SECONDS", "AssessmentImporter", "CalendarExporter", "CalendarFeed",
           "DashboardPanel", "DestinationRefused", "EventView", "FeedEvent", "FeedOverride", "Notification",
           "NotificationPerson", "Notifier", "PluginContext", "PluginError", "PluginSettings", "ReflectionMetric",
           "RosterAffiliation", "RosterBatch", "RosterOrganization", "RosterPerson", "RosterRowError", "RosterSource",
           "SessionType", "SignupAffiliation", "SignupAttempt", "SignupCommunity", "SignupPerson", "UnusableInput",
           "__version__", "check_destination", "connect_to_destination", "hookimpl", "saving", "secret_bound_to"]
