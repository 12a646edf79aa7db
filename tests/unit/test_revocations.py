"""The revoked token ids a service holds: replaced at each refresh (the kernel's background job),
kept when a fetch fails, and checked without any fetch."""

from copnet.kernel.revocations import RevocationList


def test_a_check_never_fetches_only_a_refresh_does():
    fetched, answers = [], [["a"], ["a", "b"]]
    revoked = RevocationList(lambda: fetched.append(1) or answers.pop(0))
    assert "a" not in revoked and fetched == []  # nothing known before the first refresh
    revoked.refresh()
    assert "a" in revoked and "b" not in revoked and len(fetched) == 1
    revoked.refresh()
    assert "b" in revoked and len(fetched) == 2


def test_a_failed_fetch_keeps_the_last_list_and_is_retried_later():
    answers = [["a"], RuntimeError("membership away"), ["c"]]

    def fetch():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    revoked = RevocationList(fetch)
    revoked.refresh()
    assert "a" in revoked
    revoked.refresh()
    assert "a" in revoked  # the fetch failed: the last list stands
    assert answers == [["c"]]
    revoked.refresh()
    assert "c" in revoked and "a" not in revoked
