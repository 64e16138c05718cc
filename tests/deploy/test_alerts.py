"""Every alert in the PrometheusRule, evaluated by Prometheus's own engine over sample series:
`promtool test rules` (scripts/ensure-promtool puts it in .venv/bin) with tests/deploy/alerts.test.yaml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from deploy_tools import BIN, DEPLOY

RULE = DEPLOY / "k8s" / "base" / "monitoring" / "prometheusrule.yaml"
CASES = Path(__file__).parent / "alerts.test.yaml"


def promtool() -> str:
    found = shutil.which("promtool") or (str(BIN / "promtool") if (BIN / "promtool").exists() else None)
    if not found:
        pytest.skip("no promtool: run scripts/ensure-promtool (make check-deploy does)")
    return found


def rules() -> dict[str, object]:
    return {"groups": yaml.safe_load(RULE.read_text())["spec"]["groups"]}


def alert_names() -> set[str]:
    return {r["alert"] for g in rules()["groups"] for r in g["rules"]}  # type: ignore[attr-defined]


def test_every_alert_has_a_case() -> None:
    cases = yaml.safe_load(CASES.read_text())["tests"]
    tested = {t["alertname"] for case in cases for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert alert_names() == tested, f"alerts with no firing case: {alert_names() - tested}"


def run_promtool(tmp_path: Path, rule_groups: dict[str, object]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_groups))
    shutil.copy(CASES, tmp_path / "alerts.test.yaml")
    return subprocess.run(
        [promtool(), "test", "rules", "alerts.test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_alert_rules_fire_on_their_cases_and_only_there(tmp_path: Path) -> None:
    check = subprocess.run(
        [promtool(), "check", "rules", "/dev/stdin"],
        input=yaml.safe_dump(rules()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    proc = run_promtool(tmp_path, rules())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_old_relay_alert_would_miss_a_service_that_is_entirely_down(tmp_path: Path) -> None:
    """The cases can fail: with a bare absent(), aid (no series left) raises nothing."""
    groups = rules()
    for group in groups["groups"]:  # type: ignore[attr-defined]
        for rule in group["rules"]:
            if rule.get("alert") == "GentingNoRelayLeader":
                rule["expr"] = "(sum by (job) (genting_relay_leader) < 1) or (absent(genting_relay_leader) == 1)"
    proc = run_promtool(tmp_path, groups)
    assert proc.returncode != 0 and 'job="aid"' in proc.stdout + proc.stderr
