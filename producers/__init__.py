"""producers: synthetic events per domain, JSONL replay, and the produce loop behind `deid produce`.

- `registry.GENERATORS`: domain name → generator class (one small module per domain; `base.EventGenerator`).
- `memo.labelled_memos(count, seed)`: memo texts with their PII spans (ground truth for recognizers).
- `sources`: generated or replayed events as (event id, key, JSON bytes); `produce`: the idempotent,
  batched send loop that counts delivery reports.
"""
