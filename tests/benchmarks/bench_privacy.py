"""Issue 22's costs per event, in one run: encrypt modes (Fernet, deterministic AES-SIV, FF1
format-preserving) on a movie card number and user id, and the re-identification risk window.

Each figure is records/s of `Plan.apply` on the same generated movie events; the ratios to the Fernet
plan (same run, same events) are what to read, not the absolute rates (shared, noisy machines). The
risk window is measured as `observe` alone and as apply + observe on the profile policy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.keys import LocalKeystore
from pipelines.plan import compile_policy
from pipelines.risk import RiskWindow
from producers.registry import generator_for
from tests.benchmarks.bench_transforms import rate
from tests.benchmarks.common import BenchContext, peak_rss_mb, print_table, progress

NAME = "privacy"
DESCRIPTION = "encrypt modes (Fernet / AES-SIV / FF1) and the k-anonymity risk window, per event"

MODES: dict[str, dict[str, Any]] = {
    "fernet": {"mode": "fernet"},
    "deterministic": {"mode": "deterministic"},
    "fpe": {"mode": "fpe"},
}


def _movie_policy(params: dict[str, Any]) -> Policy:
    return Policy.from_document(
        {
            "domain": "movie",
            "version": 1,
            "status": "published",
            "rules": {
                "card_number": {"treatment": "encrypt", "params": params},
                "user_id": {"treatment": "encrypt", "params": params if params["mode"] != "fpe" else {}},
            },
        }
    )


def run(ctx: BenchContext) -> dict[str, object]:
    count = ctx.count(50_000, 300)
    registry = load_registry()
    movie, profile = registry.get("movie"), registry.get("profile")
    progress(f"{count:,} movie and profile events")
    movie_events, profile_events = generator_for(movie, seed=11), generator_for(profile, seed=12)
    movies = [movie_events.event() for _ in range(count)]
    profiles = [profile_events.event() for _ in range(count)]
    result: dict[str, object] = {"events": count}
    rows: list[tuple[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="deid-bench-keys-") as data_dir:
        keystore = LocalKeystore.open(Settings(data_dir=Path(data_dir), master_key=Fernet.generate_key().decode()))
        for name, params in MODES.items():
            plan = compile_policy(_movie_policy(params), movie, keystore)
            rps = rate(count, lambda plan=plan: [plan.apply(dict(r)) for r in movies])
            result[f"encrypt_{name}_apply_rps"] = rps
            rows.append((f"Plan.apply card+user encrypt ({name})", rps))
        profile_plan = compile_policy(Policy.load(Path("pipelines/policies/profile.yaml")), profile, keystore)
        profile_plan.prefetch_subject_keys(profiles)  # the subject consent caps, as the worker loads them
        treated = [profile_plan.apply(dict(r)) for r in profiles]
        apply_rps = rate(count, lambda: [profile_plan.apply(dict(r)) for r in profiles])
        keystore.close()
    window = RiskWindow(profile.quasi_identifiers, profile.target_k, size=10_000)
    observe_rps = rate(count, lambda: [window.observe(r) for r in treated])
    report_rps = rate(100, lambda: [window.report() for _ in range(100)])
    both = 1 / (1 / apply_rps + 1 / observe_rps)
    fernet = result["encrypt_fernet_apply_rps"]
    result.update(
        {
            "deterministic_vs_fernet_ratio": round(float(result["encrypt_deterministic_apply_rps"]) / fernet, 3),  # type: ignore[arg-type]
            "fpe_vs_fernet_ratio": round(float(result["encrypt_fpe_apply_rps"]) / fernet, 3),  # type: ignore[arg-type]
            "profile_apply_rps": apply_rps,
            "risk_observe_rps": observe_rps,
            "risk_report_per_s": report_rps,
            "risk_window_overhead_ratio": round(apply_rps / both, 3),
            "min_k_profile": window.report().min_k,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    rows += [
        ("Plan.apply profile policy", apply_rps),
        ("RiskWindow.observe (10k window)", observe_rps),
        ("RiskWindow.report (per second)", report_rps),
    ]
    print_table(["measure", "records/s"], rows)
    print(
        f"vs Fernet: AES-SIV {result['deterministic_vs_fernet_ratio']}, FF1 {result['fpe_vs_fernet_ratio']}; "
        f"risk window adds x{result['risk_window_overhead_ratio']} to apply"
    )
    return result
