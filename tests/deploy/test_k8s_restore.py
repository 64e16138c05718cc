"""The Kubernetes restore (deploy/k8s/restore.py): the Component it writes, added to a copy of the
production overlay, rendered by `kubectl kustomize` and validated like the deployment itself
(kubernetes-validate --strict, CloudNativePG's CRD schemas); and what the restored cluster and the
switched service must hold for the restore to work at all."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_tools import DEPLOY, run
from test_k8s import CRD_GROUPS, crd_schema

sys.path.insert(0, str(DEPLOY / "k8s"))


class KubeLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types here
    """As the API server reads YAML: a date-like scalar in a string field is a string (PyYAML's
    timestamp resolver would make targetTime a datetime)."""


KubeLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.fixture(scope="module")
def restored(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("restore") / "deploy"
    shutil.copytree(DEPLOY / "k8s", root / "k8s")
    shutil.copytree(DEPLOY / "nats", root / "nats")
    production = root / "k8s" / "overlays" / "production"
    # As the runbook says: write the component, name it in the overlay, render.
    proc = run(
        "python",
        "deploy/k8s/restore.py",
        "funding",
        "--name",
        "r1",
        "--target-time",
        "2026-03-01 10:42:00+07:00",
        "--out",
        str(production / "restore-funding-r1"),
    )
    assert proc.stdout.strip().endswith("restore-funding-r1")
    k = yaml.safe_load((production / "kustomization.yaml").read_text())
    k["components"] = ["restore-funding-r1"]
    (production / "kustomization.yaml").write_text(yaml.safe_dump(k))
    out = run("kubectl", "kustomize", str(root / "k8s"))
    return [d for d in yaml.load_all(out.stdout, Loader=KubeLoader) if d]


def named(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [obj] = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def test_everything_rendered_with_the_restore_validates(restored: list[dict[str, Any]], tmp_path: Path) -> None:
    core = [o for o in restored if not o["apiVersion"].startswith(CRD_GROUPS)]
    path = tmp_path / "core.yaml"
    path.write_text(yaml.safe_dump_all(core))
    proc = run("kubernetes-validate", "--strict", "--quiet", str(path), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for obj in restored:
        if obj["apiVersion"].startswith(CRD_GROUPS):
            errors = list(jsonschema.Draft7Validator(crd_schema(obj["apiVersion"], obj["kind"])).iter_errors(obj))
            assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: {errors[0].message}"


def test_the_restored_cluster_recovers_from_the_original_and_archives_to_a_new_path(
    restored: list[dict[str, Any]],
) -> None:
    cluster = named(restored, "Cluster", "genting-funding-pg-r1")["spec"]
    recovery = cluster["bootstrap"]["recovery"]
    assert recovery["recoveryTarget"] == {"targetTime": "2026-03-01 10:42:00+07:00"}
    assert recovery["secret"] == {"name": "genting-funding-pg-owner"} and recovery["owner"] == "funding"
    [origin] = [c for c in cluster["externalClusters"] if c["name"] == recovery["source"]]
    store = cluster["backup"]["barmanObjectStore"]
    assert origin["barmanObjectStore"]["serverName"] == "genting-funding-pg"
    assert origin["barmanObjectStore"]["destinationPath"] == store["destinationPath"]
    # A new server name: CloudNativePG refuses to archive into a non-empty archive.
    assert store["serverName"] == "genting-funding-pg-r1"
    backup = named(restored, "ScheduledBackup", "genting-funding-pg-r1-daily")["spec"]
    assert backup["cluster"]["name"] == "genting-funding-pg-r1" and backup["immediate"] is True
    # The original stays, untouched, until the operator deletes it.
    assert named(restored, "Cluster", "genting-funding-pg")["spec"]["bootstrap"] == {
        "initdb": {"database": "genting_funding", "owner": "funding", "secret": {"name": "genting-funding-pg-owner"}}
    }


def test_the_restored_cluster_has_its_own_network_policy(restored: list[dict[str, Any]]) -> None:
    policy = named(restored, "NetworkPolicy", "genting-funding-pg-r1")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "genting-funding-pg-r1"}}
    sources = [peer for rule in policy["ingress"] for peer in rule["from"]]
    service_pods = {"app.kubernetes.io/name": "funding", "app.kubernetes.io/part-of": "genting"}
    assert {"podSelector": {"matchLabels": service_pods}} in sources
    ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert {443, 53, 5432} <= ports  # object store, DNS, replication


def test_the_service_is_switched_to_the_restored_cluster_and_no_other(restored: list[dict[str, Any]]) -> None:
    pod = named(restored, "Deployment", "funding")["spec"]["template"]["spec"]
    for container in pod["initContainers"] + pod["containers"]:
        names = [e["name"] for e in container["env"]]
        url = next(e["value"] for e in container["env"] if e["name"] == "GENTING_DATABASE_URL")
        assert "@genting-funding-pg-r1-rw:5432/genting_funding" in url
        # $(DB_PASSWORD) only expands when defined earlier in the list.
        assert names.index("DB_PASSWORD") < names.index("GENTING_DATABASE_URL")
    egress = named(restored, "NetworkPolicy", "funding")["spec"]["egress"]
    peers = [p for rule in egress for p in rule["to"] if "podSelector" in p]
    clusters = {p["podSelector"]["matchLabels"].get("cnpg.io/cluster") for p in peers}
    assert clusters - {None} == {"genting-funding-pg-r1"}
    # The other services are untouched.
    aid = named(restored, "Deployment", "aid")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "@genting-aid-pg-rw:5432" in next(e["value"] for e in aid if e["name"] == "GENTING_DATABASE_URL")
