"""A service's periodic job runs at once, keeps running after a failed run, and stops with the
service."""

import threading

from copnet.kernel.service import PeriodicJob, _run_periodically


def test_a_failed_run_is_retried_and_the_job_stops_when_the_service_does():
    runs = []
    stopping = threading.Event()
    third_run = threading.Event()

    def run():
        runs.append(len(runs))
        if len(runs) == 3:
            third_run.set()
        if len(runs) == 1:
            raise RuntimeError("membership away")

    worker = threading.Thread(target=_run_periodically, args=(PeriodicJob("test", 0.01, run), stopping))
    worker.start()
    assert third_run.wait(10)
    stopping.set()
    worker.join(10)
    assert not worker.is_alive()
    assert runs[:3] == [0, 1, 2]
