"""Actions on shared state fired at the same moment, on the real database of the run (SQLite, or
PostgreSQL with TEST_DATABASE_URL): activation, promotion against an activation, key revocation,
and training jobs whose worker died."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from application import access
from common.errors import Conflict
from models import jobs, registry
from models.registry import BUNDLE_FILE, ActiveVersionChanged
from models.tables import ModelVersion, TrainingJob

ROUNDS = 12


def at_once(*calls):
    """Run ``calls`` in threads released together; each one's result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # the test looks at what each caller got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def versions_with_files(runtime, n: int) -> list[int]:
    """``n`` candidate versions whose artifact files exist (activation checks only that they do)."""
    ids = []
    with runtime.db.session() as s:
        for _ in range(n):
            v = ModelVersion(status="candidate", encoder=runtime.settings.encoder, report={})
            s.add(v)
            s.flush()
            path = runtime.settings.models_dir / f"v{v.id}"
            path.mkdir(parents=True)
            (path / BUNDLE_FILE).write_bytes(b"")
            v.path = str(path)
            ids.append(v.id)
    return ids


def active_ids(runtime) -> list[int]:
    with runtime.db.session() as s:
        return list(s.scalars(select(ModelVersion.id).where(ModelVersion.status == "active")))


def activate(runtime, version_id, **kw):
    def call():
        with runtime.db.session() as s:
            return registry.activate(session=s, version_id=version_id, **kw).id
    return call


def test_simultaneous_activations_leave_exactly_one_version_active(runtime):
    a, b, c = versions_with_files(runtime, 3)
    with runtime.db.session() as s:
        registry.activate(session=s, version_id=a)
    for round_ in range(ROUNDS):
        serving = active_ids(runtime)[0]
        # The one serving activated again beside others: the case that left none active.
        targets = [serving, *(v for v in (a, b, c) if v != serving)]
        results = at_once(*(activate(runtime, v) for v in targets))
        assert all(isinstance(r, int) for r in results), results
        assert len(active_ids(runtime)) == 1, f"round {round_}: {active_ids(runtime)} active"
        assert active_ids(runtime)[0] in targets


def test_promotion_does_not_override_an_activation_made_while_it_trained(runtime):
    a, b, new = versions_with_files(runtime, 3)
    with runtime.db.session() as s:
        registry.activate(session=s, version_id=a)
    # Training compared `new` with a; meanwhile an admin activated b.
    with runtime.db.session() as s:
        registry.activate(session=s, version_id=b)
    with runtime.db.session() as s, pytest.raises(ActiveVersionChanged) as err:
        registry.activate(session=s, version_id=new, expected_active=a)
    assert err.value.field == "version" and f"version {b} was activated" in err.value.message
    assert active_ids(runtime) == [b]
    # Raced at once: the admin's activation and the promotion; whichever the lock lets run first,
    # the promotion never replaces a version other than the one it was compared with.
    with runtime.db.session() as s:
        registry.activate(session=s, version_id=a)
    for _ in range(ROUNDS):
        with runtime.db.session() as s:
            registry.activate(session=s, version_id=a)
        admin, promotion = at_once(activate(runtime, b), activate(runtime, new, expected_active=a))
        assert admin == b
        # Either the promotion ran first (then the admin's b replaced it) or it was refused.
        assert active_ids(runtime) == [b], promotion
        assert promotion == new or isinstance(promotion, ActiveVersionChanged)


def test_admins_revoking_each_other_at_once_leave_an_admin_key(runtime):
    for round_ in range(ROUNDS):
        with runtime.db.session() as s:
            for row in access.list_keys(session=s):
                if row.revoked_at is None:
                    row.revoked_at = access.utcnow()
            names = [f"lead-{round_}-{n}" for n in range(3)]
            for name in names:
                access.create(session=s, name=name, role="admin")

        def revoke(name):
            def call():
                with runtime.db.session() as s:
                    return access.revoke(session=s, name=name, keep_an_admin=True).name
            return call

        results = at_once(*(revoke(n) for n in names))
        refused = [r for r in results if isinstance(r, Conflict)]
        assert len(refused) == 1 and refused[0].field == "name", results
        assert all(isinstance(r, (str, Conflict)) for r in results), results
        with runtime.db.session() as s:
            usable = [k.name for k in access.list_keys(session=s) if k.role == "admin" and k.usable()]
        assert len(usable) == 1


def running_job(runtime, *, attempts: int, heartbeat_age: timedelta) -> int:
    with runtime.db.session() as s:
        job_id = jobs.enqueue(session=s, trigger="manual").id
        assert jobs.claim_next(session=s, worker="dead-worker") == job_id
        s.execute(update(TrainingJob).where(TrainingJob.id == job_id)
                  .values(attempts=attempts, heartbeat_at=jobs.utcnow() - heartbeat_age))
    return job_id


def test_a_job_whose_worker_died_is_queued_again_then_failed_after_its_attempts(runtime):
    lease = timedelta(seconds=60)
    job_id = running_job(runtime, attempts=1, heartbeat_age=timedelta(seconds=61))
    with runtime.db.session() as s:
        version = ModelVersion(status="training", encoder=runtime.settings.encoder, report={})
        s.add(version)
        s.flush()
        jobs.owns_version(session=s, job_id=job_id, version_id=version.id)
    with runtime.db.session() as s:
        assert jobs.recover_stale(session=s, lease=lease, attempts=3) == 1
        job = s.get(TrainingJob, job_id)
        assert job.status == "queued" and job.worker is None and "queued again" in job.progress[-1]
        assert s.get(ModelVersion, version.id).status == "failed"  # the half-made version it left
        # Claimed again: the attempt is counted, the dead run's version no longer owned.
        assert jobs.claim_next(session=s, worker="second-worker") == job_id
        s.refresh(job)
        assert (job.attempts, job.model_version_id, job.worker) == (2, None, "second-worker")
    # A job within its lease is left alone.
    with runtime.db.session() as s:
        assert jobs.recover_stale(session=s, lease=lease, attempts=3) == 0
        assert s.get(TrainingJob, job_id).status == "running"
    # The last attempt's worker dies too: failed, with the reason.
    with runtime.db.session() as s:
        s.execute(update(TrainingJob).where(TrainingJob.id == job_id)
                  .values(attempts=3, heartbeat_at=jobs.utcnow() - timedelta(seconds=61)))
    with runtime.db.session() as s:
        assert jobs.recover_stale(session=s, lease=lease, attempts=3) == 1
        job = s.get(TrainingJob, job_id)
        assert job.status == "failed" and "gave up after 3 attempts" in job.error and job.finished_at


def test_two_workers_recovering_the_same_job_at_once_requeue_it_once(runtime):
    job_id = running_job(runtime, attempts=1, heartbeat_age=timedelta(minutes=5))

    def recover():
        with runtime.db.session() as s:
            return jobs.recover_stale(session=s, lease=timedelta(seconds=60), attempts=3)

    assert sorted(at_once(recover, recover, recover)) == [0, 0, 1]
    with runtime.db.session() as s:
        job = s.get(TrainingJob, job_id)
        assert job.status == "queued" and sum("queued again" in p for p in job.progress) == 1


def test_a_lease_is_lost_once_the_job_was_queued_again(runtime):
    job_id = running_job(runtime, attempts=1, heartbeat_age=timedelta(seconds=0))
    with runtime.db.session() as s:
        assert jobs.holds_lease(session=s, job_id=job_id, worker="dead-worker")
        assert not jobs.holds_lease(session=s, job_id=job_id, worker="someone-else")
        s.execute(update(TrainingJob).where(TrainingJob.id == job_id)
                  .values(heartbeat_at=jobs.utcnow() - timedelta(minutes=5)))
    with runtime.db.session() as s:
        jobs.recover_stale(session=s, lease=timedelta(seconds=60), attempts=3)
        assert not jobs.holds_lease(session=s, job_id=job_id, worker="dead-worker")
