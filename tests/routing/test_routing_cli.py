"""``expediter staffing`` and ``expediter simulate``: JSON answers, one-line refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from expediter.routing.simulate import DEFAULT_POLICIES
from expediter.routing.staffing import erlang_c, service_level

SMALL_SCENARIO = {
    "days": 3,
    "seed": 4,
    "agents": [
        {"name": "a", "skills": {"net": 5}, "capacity": 2, "hours": "mon-fri 08:00-16:00"},
        {
            "name": "b",
            "skills": {"net": 3, "win": 4},
            "capacity": 2,
            "hours": "mon-fri 08:00-16:00",
        },
    ],
    "services": [
        {"name": "Network", "skills": {"net": 3}, "share": 0.5, "handle_minutes": 30},
        {"name": "Windows", "skills": {"win": 2}, "share": 0.5, "handle_minutes": 20},
    ],
    "arrivals": [{"hours": "mon-fri 08:00-16:00", "per_hour": 3.0}],
}


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_staffing_answers_the_fewest_agents_meeting_the_target() -> None:
    answer = json.loads(
        run(
            "staffing",
            "--arrivals-per-hour",
            "60",
            "--handle-minutes",
            "5",
            "--answer-within-minutes",
            "0.5",
            "--target",
            "0.8",
        )
    )
    assert list(answer)[:4] == ["agents", "service_level", "wait_probability", "occupancy"]
    agents = answer["agents"]
    load = 60 * 5 / 60
    reached = service_level(agents, load, handle_minutes=5, answer_within_minutes=0.5)
    assert reached == pytest.approx(answer["service_level"]) and reached >= 0.8
    assert service_level(agents - 1, load, handle_minutes=5, answer_within_minutes=0.5) < 0.8
    assert answer["wait_probability"] == pytest.approx(erlang_c(agents, load))
    assert answer["occupancy"] == pytest.approx(load / agents)


def test_staffing_shrinkage_adds_rostered_agents() -> None:
    base = ["--arrivals-per-hour", "60", "--handle-minutes", "5"]
    base += ["--answer-within-minutes", "0.5", "--target", "0.8"]
    plain = json.loads(run("staffing", *base))
    shrunk = json.loads(run("staffing", *base, "--shrinkage", "0.3"))
    assert shrunk["agents"] > plain["agents"]
    assert shrunk["service_level"] == plain["service_level"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--target", "1.5", "--target must be a fraction"),
        ("--shrinkage", "1", "--shrinkage must be below 1"),
        ("--handle-minutes", "0", "--handle-minutes must be a positive number"),
    ],
)
def test_staffing_refuses_values_out_of_range(option: str, value: str, message: str) -> None:
    options = {
        "--arrivals-per-hour": "10",
        "--handle-minutes": "6",
        "--answer-within-minutes": "1",
        "--target": "0.8",
        option: value,
    }
    with pytest.raises(CommandError, match=message):
        run("staffing", *[part for pair in options.items() for part in pair])


def test_simulate_compares_the_default_policies_on_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "desk.json"
    scenario.write_text(json.dumps(SMALL_SCENARIO))
    answer = json.loads(run("simulate", "--scenario", str(scenario)))
    rows = answer["policies"]
    assert [row["policy"] for row in rows] == list(DEFAULT_POLICIES)
    for row in rows:
        assert 0 <= row["sla_attainment"] <= 1 and row["mean_wait_minutes"] >= 0
        assert row["off_shift_assignments"] == 0
        assert row["over_capacity_assignments"] == 0
        assert row["unskilled_assignments"] == 0


def test_simulate_takes_days_seed_and_policies(tmp_path: Path) -> None:
    scenario = tmp_path / "desk.json"
    scenario.write_text(json.dumps(SMALL_SCENARIO))
    common = ["--scenario", str(scenario), "--policies", "round_robin,manual", "--days", "2"]
    first = json.loads(run("simulate", *common, "--seed", "9"))
    again = json.loads(run("simulate", *common, "--seed", "9"))
    assert first == again
    assert [row["policy"] for row in first["policies"]] == ["round_robin", "manual"]
    assert first["policies"][1]["sla_attainment"] == 0


def test_simulate_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="policies: unknown policy 'fastest'"):
        run("simulate", "--days", "1", "--policies", "fastest")
    with pytest.raises(CommandError, match="cannot read"):
        run("simulate", "--scenario", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        run("simulate", "--scenario", str(broken))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**SMALL_SCENARIO, "agents": [{"name": "x", "capacity": -1}]}))
    with pytest.raises(CommandError, match=r"agents\[0\]"):
        run("simulate", "--scenario", str(wrong))


@pytest.mark.slow
def test_console_script_prints_one_json_document_or_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "EXPEDITER_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "expediter", "staffing", "--arrivals-per-hour", "12"]
    command += ["--handle-minutes", "10", "--answer-within-minutes", "2"]
    ok = subprocess.run([*command, "--target", "0.9"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["agents"] >= 3
    bad = subprocess.run([*command, "--target", "2"], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "--target" in bad.stderr
