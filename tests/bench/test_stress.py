"""The saturation ramp's stopping rule, on recorded load figures (no servers)."""

from __future__ import annotations

import pytest

from bench import stress


def _fake_load(rates: dict[int, tuple[float, int]]):
    async def run_load(url, patients, **kwargs):
        rate, errors = rates[patients]
        return {
            "messages_per_s": rate,
            "errors": errors,
            "latency_ms": {"p95_ms": patients * 10.0, "p99_ms": patients * 12.0},
            "cpu": {"servers_pct_of_core": {"rasa": 90.0}},
        }

    return run_load


@pytest.mark.parametrize(
    ("rates", "steps", "saturation", "patients"),
    [
        # Grows, then adds under 5 %: saturated at the better of the last two.
        ({10: (9.5, 0), 20: (19.0, 0), 40: (19.5, 0)}, 3, 19.5, 40),
        # Falls after a peak: the peak.
        ({10: (9.5, 0), 20: (19.0, 0), 40: (15.0, 0)}, 3, 19.0, 20),
        # Errors end the ramp; the last step without errors counts.
        ({10: (9.5, 0), 20: (19.0, 0), 40: (30.0, 3)}, 3, 19.0, 20),
        # Still growing at the end of the ramp: the last step.
        ({10: (9.5, 0), 20: (19.0, 0), 40: (38.0, 0)}, 3, 38.0, 40),
    ],
)
def test_the_ramp_stops_where_throughput_stops_growing(
    monkeypatch, rates, steps, saturation, patients
):
    monkeypatch.setattr(stress, "run_load", _fake_load(rates))
    result = stress.saturation("http://127.0.0.1:1", ramp=(10, 20, 40), step_s=1)
    assert len(result["steps"]) == steps
    assert result["saturation_messages_per_s"] == saturation
    assert result["saturation_patients"] == patients
    assert result["think_s"] == [0.5, 1.5]
