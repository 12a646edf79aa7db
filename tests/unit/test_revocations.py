"""The revoked token ids a service holds: fetched again at most every few seconds, kept when the
fetch fails."""

from copnet.kernel.revocations import RevocationList


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_list_is_fetched_at_first_use_then_again_only_after_the_refresh_interval():
    clock, fetched, answers = Clock(), [], [["a"], ["a", "b"]]
    revoked = RevocationList(lambda: fetched.append(1) or answers.pop(0), refresh_seconds=5, clock=clock)
    assert "a" in revoked and "b" not in revoked
    clock.now += 4.9
    assert "b" not in revoked and len(fetched) == 1
    clock.now += 0.2
    assert "b" in revoked and len(fetched) == 2


def test_a_failed_fetch_keeps_the_last_list_and_is_retried_later():
    clock, answers = Clock(), [["a"], RuntimeError("membership away"), ["c"]]

    def fetch():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    revoked = RevocationList(fetch, refresh_seconds=5, clock=clock)
    assert "a" in revoked
    clock.now += 6
    assert "a" in revoked  # the fetch failed: the last list stands
    assert answers == [["c"]]
    clock.now += 6
    assert "c" in revoked and "a" not in revoked
