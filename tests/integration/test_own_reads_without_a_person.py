"""A caller whose token names no person record (a platform admin made with `copnet token issue`, say)
reads their own calendar, participation and attendance as empty, never a 5xx (issue 11, item 12)."""

from __future__ import annotations

import pytest

from tests.integration.http import request

pytestmark = pytest.mark.integration

OWN_READS = ("occurrences", "participation", "attendance")


@pytest.mark.parametrize("role, org", [("platform_admin", ""), ("member", "ca")])
def test_own_reads_of_someone_without_a_record_are_empty(stack, role, org):
    token = stack.token(role, org, person="nobody-on-record")
    answers = {read: request("GET", f"{stack.gateway_url}/api/v1/people/nobody-on-record/{read}", token=token)
               for read in OWN_READS}
    assert {read: answer.status for read, answer in answers.items()} == dict.fromkeys(OWN_READS, 200)
    assert answers["occurrences"].json()["items"] == [] and answers["attendance"].json()["items"] == []
    assert answers["participation"].json()["communities"] == []
