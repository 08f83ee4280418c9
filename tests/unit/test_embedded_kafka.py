from __future__ import annotations

from deid.stack.kafka_broker import new_cluster_id


def test_cluster_ids_never_look_like_options() -> None:
    ids = {new_cluster_id() for _ in range(3000)}  # ~1 in 64 raw ids starts with '-'
    assert len(ids) == 3000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
