"""Reads kept per process: kept until a change, never kept while a change may roll back."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from expediter.core.memo import SharedMemo, all_pinned


class Loads:
    """A loader that counts its calls and hands back a new value each time."""

    def __init__(self) -> None:
        self.calls = itertools.count(1)
        self.count = 0

    def __call__(self) -> int:
        self.count = next(self.calls)
        return self.count


@pytest.mark.django_db
def test_a_value_is_read_once_until_a_change() -> None:
    memo, load = SharedMemo("test.memo.once"), Loads()
    assert memo.get("value", load) == 1
    assert memo.get("value", load) == 1
    assert memo.get("other", load) == 2  # each name is read once too
    memo.changed()
    memo.confirm()  # what the commit of the change does
    assert memo.get("value", load) == 3
    assert memo.get("value", load) == 3


@pytest.mark.django_db
def test_what_is_read_while_a_change_may_roll_back_is_never_kept() -> None:
    memo, load = SharedMemo("test.memo.pending"), Loads()
    memo.get("value", load)
    memo.changed()  # inside the test's transaction: not committed yet
    assert memo.get("value", load) == 2
    assert memo.get("value", load) == 3
    memo.confirm()
    assert memo.get("value", load) == 4
    assert memo.get("value", load) == 4


@pytest.mark.django_db
def test_a_change_in_one_process_is_seen_by_the_others() -> None:
    here, there = SharedMemo("test.memo.shared"), SharedMemo("test.memo.shared")
    load_here, load_there = Loads(), Loads()
    here.get("value", load_here)
    there.get("value", load_there)
    assert there.get("value", load_there) == 1
    here.changed()
    assert there.get("value", load_there) == 2  # the old rows, until the commit
    here.confirm()
    assert there.get("value", load_there) == 3
    assert there.get("value", load_there) == 3


@pytest.mark.django_db(transaction=True)
def test_after_a_rolled_back_change_values_are_kept_again() -> None:
    memo, load = SharedMemo("test.memo.rollback"), Loads()
    with pytest.raises(RuntimeError), transaction.atomic():
        memo.changed()
        assert memo.get("value", load) == 1
        raise RuntimeError("rolled back")
    assert memo.get("value", load) == 2
    assert memo.get("value", load) == 2


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_is_read_again_by_every_process() -> None:
    here, there = SharedMemo("test.memo.commit"), SharedMemo("test.memo.commit")
    load = Loads()
    assert there.get("value", load) == 1
    with transaction.atomic():
        here.changed()
    assert there.get("value", load) == 2
    assert there.get("value", load) == 2


@pytest.mark.django_db
def test_a_pinned_block_reads_the_token_once_but_sees_its_own_changes() -> None:
    here, there = SharedMemo("test.memo.pinned"), SharedMemo("test.memo.pinned")
    load = Loads()
    here.confirm()
    assert here.get("value", load) == 1
    with here.pinned():
        there.changed()  # another process, meanwhile
        there.confirm()
        assert here.get("value", load) == 1  # the token read when the block began
        here.changed()  # this process, inside the block
        assert here.get("value", load) == 2
    here.confirm()
    assert here.get("value", load) == 3
    assert here.get("value", load) == 3


@pytest.mark.django_db
def test_every_memo_reads_its_token_once_for_a_batch_and_sees_its_own_changes() -> None:
    here, elsewhere = SharedMemo("test.memo.batch"), SharedMemo("test.memo.batch")
    policies, load_policies = SharedMemo("test.memo.batch-other"), Loads()
    load = Loads()
    assert here.get("value", load) == 1
    assert policies.get("value", load_policies) == 1
    with all_pinned():
        elsewhere.changed()  # another process, committed while the batch runs
        elsewhere.confirm()
        assert here.get("value", load) == 1  # the batch decides on what it started with
        policies.changed()  # a change made in the batch itself is seen at once
        assert policies.get("value", load_policies) == 2
    assert here.get("value", load) == 2  # the next batch reads the change
