"""/api/v1/plugins and /api/v1/regions/{region}/...: installed plugins, per-region configuration,
roster imports and dashboards (the plugins service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Page, Strict

# The proto's int64 (a version); a larger number cannot even be sent to the service.
INT64_MAX = 2**63 - 1


class PluginPath(Strict):
    name: str


class RegionPath(Strict):
    region: str = Field(description="A region's id, or a county office's (its override of the region).")


class RegionPluginPath(Strict):
    region: str = Field(description="A region's id, or a county office's (its override of the region).")
    name: str


class Placement(BaseModel):
    organization_id: str
    enabled: bool
    version: int


class FailureTally(BaseModel):
    service: str = Field(description="The process that counted them, e.g. `membership`.")
    organization_id: str | None = Field(description="Whose configuration was in effect; null for unscoped calls.")
    count: int = Field(description="Hook calls that raised or timed out since that process started.")
    switched_off: bool = Field(description="Switched off in that process after failing too often in a row.")


class Plugin(BaseModel):
    name: str = Field(description="The entry-point name (group `copnet`).")
    version: str = Field(description="The version of the distribution that provides it.")
    title: str
    description: str
    hookspec_version: int
    hooks: list[str]
    settings_schema: dict[str, Any] | None = Field(description="JSON Schema of its settings; null without settings.")
    secret_fields: list[str] = Field(description="Settings that are write-only: reads show `{\"set\": bool}`.")
    roster_sources: list[str] = Field(description="Keys of the roster sources it provides.")
    enabled_in: list[Placement] = Field(description="Every organization with a configuration for it.")
    failures: list[FailureTally] = Field(description="Its failed hook calls, as each process counted them.")


class RefusedPlugin(BaseModel):
    name: str
    reason: str = Field(description="Why it did not load, e.g. an import error or another hookspec version.")


class PluginList(BaseModel):
    items: list[Plugin]
    refused: list[RefusedPlugin] = Field(description="Installed plugins that were refused at load: off everywhere.")


class PluginConfig(BaseModel):
    organization_id: str
    plugin: str
    enabled: bool
    settings: dict[str, Any] = Field(description="The settings in force; each secret shows as `{\"set\": bool}`.")
    version: int = Field(description="1 for the first revision, one more for each change.")
    region_id: str | None
    organization_kind: str = Field(description="`region` or `county_office`.")
    updated_at: datetime
    updated_by: str = Field(description="A person id, or `copnet:auto-disable`.")
    reason: str | None


class PluginConfigPut(Strict):
    enabled: bool
    settings: dict[str, Any] = Field(default_factory=dict, description="Validated against the plugin's settings "
                                     "schema. A secret left out (or sent back as `{\"set\": true}`) keeps its value.")
    expected_version: int | None = Field(None, ge=0, le=INT64_MAX,
                                         description="Refuse (409 VERSION_MISMATCH) unless the "
                                         "configuration is at this version (0: not configured yet).")
    reason: str = Field("", max_length=1000, description="Why, kept in the history.")


class PluginConfigWritten(PluginConfig):
    changed: bool = Field(description="False when the request changed nothing (no new version).")


class PluginConfigList(BaseModel):
    items: list[PluginConfig]
    next_page_token: str


class PluginConfigRevision(BaseModel):
    version: int
    enabled: bool
    settings: dict[str, Any] = Field(description="As written; secrets always `{\"set\": bool}`.")
    changed_by: str
    changed_at: datetime
    reason: str | None


class PluginConfigHistory(BaseModel):
    items: list[PluginConfigRevision]
    next_page_token: str


class RosterImportCreate(Strict):
    source: str = Field(min_length=1, description="A roster source's key, e.g. `oneroster`.")
    files: dict[str, str] = Field(min_length=1, description="File name -> its text (UTF-8), e.g. `orgs.csv`.")
    dry_run: bool = Field(False, description="Report what would change without writing anything.")


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int


class RosterImportError(BaseModel):
    file: str | None = Field(description="The file a bad row came from (null for a refused write).")
    row: int | None = Field(description="For a bad row: its line as an editor shows it (the header is 1; 0 "
                                        "means the file as a whole). Null for a refused write.")
    kind: str | None = Field(description="For a refused write: organization, person or affiliation.")
    record: str | None = Field(description="For a refused write: the record's id.")
    message: str


class RosterImportReport(BaseModel):
    plugin: str
    dry_run: bool
    organizations: ImportCounts
    people: ImportCounts
    affiliations: ImportCounts
    errors: list[RosterImportError]


class DashboardPanel(BaseModel):
    key: str
    title: str
    body: str
    link: str | None
    plugin: str


class Dashboard(BaseModel):
    organization_id: str
    panels: list[DashboardPanel]


class HistoryQuery(Page):
    pass


class ConfigQuery(Page):
    pass
