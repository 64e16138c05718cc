"""Writes a Kustomize Component that restores one service's database on Kubernetes: a new
CloudNativePG cluster recovered from the backups (point in time, or the latest), and the service
switched to it. Generated from the same definitions as base/services (generate.py), so the restored
cluster is the original one but for its bootstrap and its backup path.

    python deploy/k8s/restore.py funding --name r1 --target-time "2026-03-01 10:42:00+07:00"
        # writes deploy/k8s/overlays/production/restore-funding-r1/kustomization.yaml (+ objects)
    # add `components: [restore-funding-r1]` to overlays/production/kustomization.yaml, then
    kubectl apply -k deploy/k8s

The component holds:
- Cluster genting-<service>-pg-<name>, `bootstrap.recovery` from the original cluster's backups
  (externalClusters, serverName = the cluster that wrote them), the same owner and owner Secret,
  and a `backup:` section of its own whose serverName is the new cluster's name: CloudNativePG
  refuses to archive into a path that already holds WAL ("Expected empty archive"), and the old
  cluster's backups stay untouched for another attempt;
- a ScheduledBackup for it with `immediate: true` (its first base backup at once);
- its NetworkPolicy (the original one selects only the original cluster's pods: without its own,
  the restored instances could reach neither the object store, nor DNS, nor the operator);
- the switch: the Deployment's GENTING_DATABASE_URL and the service's NetworkPolicy egress now
  name the restored cluster. The owner Secret is the same, so DB_PASSWORD needs no change.

After `kubectl apply -k` and the rollout: `genting restore SERVICE --reconcile` in the service's pod
(re-applies erasures recorded since the backup, republishes what the stream lacks, restarts the
consumers) and `genting republish SERVICE` if the stream was lost too (deploy/README.md).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SERVICES, database_objects, env, pg_cluster

PRODUCTION = Path(__file__).parent / "overlays" / "production"


def restored_objects(
    service: str, name: str, target_time: str | None, source: str | None = None
) -> list[dict[str, Any]]:
    """The restored cluster, its first backup and its NetworkPolicy. `source` is the cluster whose
    backups are read (by default the original; after an earlier restore, that restored cluster)."""
    source = source or pg_cluster(service)
    new = f"{pg_cluster(service)}-{name}"
    cluster, scheduled, policy = copy.deepcopy(database_objects(service))
    spec = cluster["spec"]
    store = spec["backup"]["barmanObjectStore"]
    recovery: dict[str, Any] = {
        "source": "origin",
        "database": f"genting_{service}",
        "owner": service,
        "secret": {"name": f"{pg_cluster(service)}-owner"},
    }
    if target_time:
        recovery["recoveryTarget"] = {"targetTime": target_time}
    spec["bootstrap"] = {"recovery": recovery}
    spec["externalClusters"] = [
        {
            "name": "origin",
            "barmanObjectStore": {
                "destinationPath": store["destinationPath"],
                "serverName": source,
                "s3Credentials": store["s3Credentials"],
                "wal": {"maxParallel": 4},
            },
        }
    ]
    # Same bucket and prefix, a new server name: a fresh archive beside the original's.
    store["serverName"] = new
    cluster["metadata"]["name"] = new

    scheduled["metadata"]["name"] = f"{new}-daily"
    scheduled["spec"]["cluster"]["name"] = new

    policy["metadata"]["name"] = new
    # Every selector of the original cluster's pods (itself, replication) now names the new one.
    text = yaml.safe_dump(policy).replace(f"cnpg.io/cluster: {pg_cluster(service)}\n", f"cnpg.io/cluster: {new}\n")
    policy = yaml.safe_load(text)
    return [cluster, scheduled, policy]


def switch_patches(service: str, name: str) -> list[dict[str, Any]]:
    """JSON patches by position, not a strategic merge: a merge would move GENTING_DATABASE_URL
    ahead of DB_PASSWORD, and $(DB_PASSWORD) expands only from variables defined before it."""
    new = f"{pg_cluster(service)}-{name}"
    url = f"postgresql://{service}:$(DB_PASSWORD)@{new}-rw:5432/genting_{service}"
    index = [e["name"] for e in env(service)].index("GENTING_DATABASE_URL")
    deployment = [
        {"op": "test", "path": f"/spec/template/spec/{kind}/0/env/{index}/name", "value": "GENTING_DATABASE_URL"}
        for kind in ("initContainers", "containers")
    ] + [
        {"op": "replace", "path": f"/spec/template/spec/{kind}/0/env/{index}/value", "value": url}
        for kind in ("initContainers", "containers")
    ]
    egress = [{"op": "replace", "path": "/spec/egress/0/to/0/podSelector/matchLabels/cnpg.io~1cluster", "value": new}]
    return [
        {"target": {"kind": "Deployment", "name": service}, "patch": yaml.safe_dump(deployment, sort_keys=False)},
        {"target": {"kind": "NetworkPolicy", "name": service}, "patch": yaml.safe_dump(egress, sort_keys=False)},
    ]


class _Dumper(yaml.SafeDumper):
    """Patches as readable YAML blocks, not one quoted line."""


_Dumper.add_representer(
    str,
    lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None),
)


def write_component(service: str, name: str, target_time: str | None, out: Path, source: str | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    header = f"# GENERATED by deploy/k8s/restore.py: {service}'s database restored as {pg_cluster(service)}-{name}.\n"
    (out / "restored-cluster.yaml").write_text(
        header + yaml.safe_dump_all(restored_objects(service, name, target_time, source), sort_keys=False, width=120)
    )
    component = {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": ["restored-cluster.yaml"],
        "patches": switch_patches(service, name),
    }
    (out / "kustomization.yaml").write_text(header + yaml.dump(component, Dumper=_Dumper, sort_keys=False, width=120))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--name", required=True, help="suffix of the restored cluster, e.g. r1 (a new one per restore)")
    parser.add_argument("--target-time", help="point in time, e.g. '2026-03-01 10:42:00+07:00'; default: the latest")
    parser.add_argument("--source", help="the cluster whose backups to read (default: the original)")
    parser.add_argument("--out", type=Path, help="default: overlays/production/restore-SERVICE-NAME")
    args = parser.parse_args(argv)
    out = args.out or PRODUCTION / f"restore-{args.service}-{args.name}"
    print(write_component(args.service, args.name, args.target_time, out, args.source))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
