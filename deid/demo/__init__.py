"""The demo: from nothing to de-identified streams in one command (`./scripts/demo` → `deid demo`).

`flow.Demo` lists the steps, `steps.StepRunner` runs them with progress and names a failing step,
`report` prints raw events beside their anonymised twins and the summary table. `channel_seed_events.jsonl`
holds the 16 channel events of the original demo (TV titles "Barry" and "Andi Mack" among them).
"""
