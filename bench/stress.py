"""Saturation throughput of one Rasa process: more and more patients who type fast.

Patients think 0.5-1.5 s between messages (the issue's stress profile), so each offers about
one message a second. The ramp doubles the number of patients while the answered messages per
second still grow; the highest rate reached without errors is the process's saturation
throughput, and the step where it stopped growing shows the latency there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.load import run_load

STRESS_THINK_S = (0.5, 1.5)
DEFAULT_RAMP = (10, 20, 40, 80, 160)
QUICK_RAMP = (5, 10)
DEFAULT_STEP_S = 15.0
# A step that adds less than this fraction of throughput means the process is saturated.
MIN_GAIN = 0.05


def saturation(
    rasa_url: str,
    ramp: tuple[int, ...] = DEFAULT_RAMP,
    step_s: float = DEFAULT_STEP_S,
    seed: int = 7,
    watch: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Runs the ramp against ``rasa_url`` and returns every step and the saturation figures."""
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for patients in ramp:
        report = asyncio.run(
            run_load(
                rasa_url,
                patients,
                duration_s=step_s,
                think_s=STRESS_THINK_S,
                seed=seed,
                watch=watch,
            )
        )
        step = {
            "patients": patients,
            "messages_per_s": report.get("messages_per_s"),
            "errors": report.get("errors"),
            "p95_ms": (report.get("latency_ms") or {}).get("p95_ms"),
            "p99_ms": (report.get("latency_ms") or {}).get("p99_ms"),
            "rasa_cpu_pct": ((report.get("cpu") or {}).get("servers_pct_of_core") or {}).get(
                "rasa"
            ),
        }
        steps.append(step)
        print(
            f"    {patients:4d} patients: {step['messages_per_s']} msg/s, "
            f"p95 {step['p95_ms']} ms, errors {step['errors']}",
            flush=True,
        )
        rate = float(step["messages_per_s"] or 0.0)
        if step["errors"]:
            break  # past saturation: requests time out or fail
        if best is not None and rate < float(best["messages_per_s"]) * (1 + MIN_GAIN):
            if rate > float(best["messages_per_s"]):
                best = step
            break
        best = step
    return {
        "think_s": list(STRESS_THINK_S),
        "step_s": step_s,
        "steps": steps,
        "saturation_messages_per_s": None if best is None else best["messages_per_s"],
        "saturation_patients": None if best is None else best["patients"],
        "saturation_p95_ms": None if best is None else best["p95_ms"],
    }
