"""BatchSizer: a batch aims at a time budget at the recent cost per record, within floor and ceiling."""

from __future__ import annotations

from pipelines.batch_size import BatchSizer


def test_fast_records_fill_the_ceiling_slow_ones_shrink_the_batch_to_the_time_budget() -> None:
    sizer = BatchSizer(ceiling=20_000, target_seconds=0.5, floor=50)
    assert sizer.next_size() == 1000  # nothing measured yet: a modest first batch
    sizer.observe(1000, 0.008)  # 8 µs a record (an encrypted id)
    assert sizer.next_size() == 20_000
    slow = BatchSizer(ceiling=20_000, target_seconds=0.5, floor=50)
    slow.observe(1000, 5.0)  # 5 ms a record (a memo through NER)
    assert slow.next_size() == 100
    slow.observe(100, 100.0)  # pathological: one second a record
    assert slow.next_size() == 50  # never below the floor


def test_the_average_follows_a_change_of_cost_and_zero_seconds_means_a_fixed_size() -> None:
    sizer = BatchSizer(ceiling=10_000, target_seconds=1.0)
    sizer.observe(1000, 1.0)
    first = sizer.next_size()
    for _ in range(20):
        sizer.observe(1000, 0.01)
    assert first == 1000 and sizer.next_size() == 10_000
    sizer.observe(0, 1.0)  # an empty batch teaches nothing
    assert sizer.next_size() == 10_000
    assert BatchSizer(ceiling=300, target_seconds=0).next_size() == 300
    assert BatchSizer(ceiling=20, target_seconds=0.5, floor=50).next_size() == 20  # a ceiling below the floor wins
