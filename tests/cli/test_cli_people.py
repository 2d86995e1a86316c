"""The command line: JSON answers, one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from expediter.staff.models import User
from expediter.staff.services import token_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_user_add_answers_json_and_creates_teams_skills_orgs() -> None:
    answer = json.loads(
        run(
            "user",
            "add",
            "--email",
            "Net.Ops@Corp.example",
            "--name",
            "Nora",
            "--role",
            "agent",
            "--team",
            "Network",
            "--team",
            "Service Desk",
            "--skills",
            "net:4,windows:2",
            "--capacity",
            "3",
            "--phone",
            "+33 1 40 00 00 01",
            "--language",
            "fr",
        )
    )
    user = User.objects.get(pk=answer["id"])
    assert answer["email"] == user.email == "Net.Ops@corp.example"
    assert user.capacity == 3 and user.phone == "+33140000001" and user.language == "fr"
    assert [m.team.name for m in user.memberships.order_by("-is_primary", "id")] == [
        "Network",
        "Service Desk",
    ]
    assert dict(user.skill_levels.values_list("skill__name", "level")) == {"net": 4, "windows": 2}


def test_user_add_refuses_bad_input_with_a_message() -> None:
    with pytest.raises(CommandError, match="1-5"):
        run("user", "add", "--email", "a@b.example", "--name", "A", "--skills", "net:9")
    run("user", "add", "--email", "a@b.example", "--name", "A")
    with pytest.raises(CommandError, match="already exists"):
        run("user", "add", "--email", "A@b.example", "--name", "A")


def test_token_create_prints_a_working_token() -> None:
    run("user", "add", "--email", "t@b.example", "--name", "T", "--role", "agent")
    token = run("token", "create", "--email", "t@b.example").strip()
    assert token_authenticate(secret=token) == User.objects.get(email="t@b.example")
    with pytest.raises(CommandError, match="no user"):
        run("token", "create", "--email", "ghost@b.example")


def test_service_and_team_policy() -> None:
    answer = json.loads(
        run("service", "add", "--name", "VPN", "--team", "Network", "--skills", "net:3")
    )
    assert answer["team"] == "Network" and answer["skills"] == {"net": 3}
    policy = json.loads(run("team", "policy", "--team", "Network", "--policy", "round_robin"))
    assert policy == {"team": "Network", "policy": "round_robin"}


def test_site_add() -> None:
    answer = json.loads(run("site", "add", "--name", "Lyon", "--lat", "45.76", "--lon", "4.83"))
    assert answer["name"] == "Lyon" and answer["lat"] == 45.76
    with pytest.raises(CommandError, match="latitude"):
        run("site", "add", "--name", "Nowhere", "--lat", "95", "--lon", "0")


@pytest.mark.slow
def test_console_script_fails_with_one_line_on_stderr(tmp_path: Path) -> None:
    env = {**os.environ, "EXPEDITER_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "expediter", "migrate", "-v0"], env=env, check=True)
    ok = subprocess.run(
        [sys.executable, "-m", "expediter", "user", "add", "--email", "x@y.example", "--name", "X"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["email"] == "x@y.example"
    bad = subprocess.run(
        [sys.executable, "-m", "expediter", "user", "add", "--email", "nope", "--name", "X"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "not an email address" in bad.stderr
