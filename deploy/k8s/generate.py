"""Writes deploy/k8s/base/services/<service>.yaml: the same objects for each of the four services.

    python deploy/k8s/generate.py            # rewrite them
    python deploy/k8s/generate.py --check    # exit 1 when a file is stale (tests/deploy runs this)

Per service: a ServiceAccount, a Deployment (migrations in an init container, probes, a restricted
securityContext, topology spread), a Service, a KEDA ScaledObject (CPU, and the lag of each
JetStream consumer it runs; the registry, which consumes nothing, has a CPU-only HPA), a
PodDisruptionBudget, its NetworkPolicy, and its own CloudNativePG Cluster with a ScheduledBackup
(the first backup at once) and the Cluster's NetworkPolicy.
Generated, not templated by hand, so that the four stay alike; edit here, not in the YAML.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from genting.nats_accounts import durables

SERVICES = ("registry", "aid", "funding", "reporting")
OUT = Path(__file__).parent / "base" / "services"
HTTP = 8000
# /metrics is served on this port only (GENTING_METRICS_PORT): the Ingress routes HTTP, never it.
METRICS = 9102
UID = 10001
# The namespaces of the ingress controller and of Prometheus: the only callers of the HTTP port.
INGRESS_NS = "ingress-nginx"
MONITORING_NS = "monitoring"
CNPG_NS = "cnpg-system"
# NATS's CA, mounted from the Secret nats-tls: the services connect over TLS (nats-cluster.conf).
NATS_CA = "/etc/nats-tls/ca.crt"
# A consumer this many events behind its stream asks KEDA for one more replica.
LAG_THRESHOLD = 1000
# HTTPS out of the cluster: the identity provider's JWKS (every service verifies tokens with it)
# and, for aid, the object store of the proof photos (S3). Only port 443, and never into the
# cluster's private ranges: an in-cluster MinIO on another port needs its own rule here.
HTTPS_EGRESS = {
    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
    "ports": [{"protocol": "TCP", "port": 443}],
}


def labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "genting"}


def pg_cluster(service: str) -> str:
    return f"genting-{service}-pg"


def ns_selector(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


DNS_EGRESS = {
    "to": [{**ns_selector("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}

CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": UID,
    "runAsGroup": UID,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def env(service: str) -> list[dict[str, Any]]:
    """Everything `genting serve` reads; the secret values come from Secrets the operator made."""

    def secret(name: str, secret_name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}

    return [
        {"name": "PORT", "value": str(HTTP)},
        {"name": "GENTING_METRICS_PORT", "value": str(METRICS)},
        {"name": "GENTING_STREAM_REPLICAS", "value": "3"},
        {"name": "GENTING_LOG_LEVEL", "value": "info"},
        secret("DB_PASSWORD", f"{pg_cluster(service)}-owner", "password"),
        secret("NATS_PASSWORD", f"genting-{service}", "NATS_PASSWORD"),
        secret("GENTING_DATA_KEY", f"genting-{service}", "GENTING_DATA_KEY"),
        # The identity provider's public keys and issuer: no service holds a signing key.
        {"name": "GENTING_JWKS_URL", "valueFrom": {"configMapKeyRef": {"name": "genting-identity", "key": "jwks_url"}}},
        {
            "name": "GENTING_OIDC_ISSUER",
            "valueFrom": {"configMapKeyRef": {"name": "genting-identity", "key": "issuer"}},
        },
        {
            "name": "GENTING_DATABASE_URL",
            "value": f"postgresql://{service}:$(DB_PASSWORD)@{pg_cluster(service)}-rw:5432/genting_{service}",
        },
        {"name": "GENTING_NATS_URL", "value": f"tls://{service}:$(NATS_PASSWORD)@nats:4222"},
        {"name": "GENTING_NATS_CA", "value": NATS_CA},
        *rotation_env(service),
        *aid_env(service),
    ]


def aid_env(service: str) -> list[dict[str, Any]]:
    """Aid keeps the delivery photos in an S3 bucket: where, from the ConfigMap genting-photos
    (bucket, endpoint — empty for AWS S3 — and region); the keys from the Secret genting-photos.
    And it counts grievances filed without a token per client: only the ingress controller (and
    Prometheus) may reach its HTTP port (the NetworkPolicy), so any in-cluster peer is a proxy
    whose X-Forwarded-For names the client; without this every citizen would share one count."""
    if service != "aid":
        return []

    def config(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"configMapKeyRef": {"name": "genting-photos", "key": key}}}

    def secret(name: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": "genting-photos", "key": name}}}

    return [
        {"name": "GENTING_TRUSTED_PROXIES", "value": "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"},
        config("GENTING_PHOTO_S3_BUCKET", "bucket"),
        config("GENTING_PHOTO_S3_ENDPOINT", "endpoint"),
        config("GENTING_PHOTO_S3_REGION", "region"),
        secret("GENTING_PHOTO_S3_ACCESS_KEY"),
        secret("GENTING_PHOTO_S3_SECRET_KEY"),
    ]


def topology_env(service: str) -> list[dict[str, Any]]:
    """The registry's migration also creates the streams and durable consumers (`genting migrate`
    with GENTING_NATS_ADMIN_URL), and the subscriber's own streams: the admin's password goes to
    that one init container, never to a serving container. The other services stop at start until
    the streams exist, and then start."""
    if service != "registry":
        return []

    def secret(name: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": "genting-nats-admin", "key": name}}}

    return [
        secret("ADMIN_NATS_PASSWORD"),
        secret("SUBSCRIBER_NATS_PASSWORD"),
        {"name": "GENTING_NATS_ADMIN_URL", "value": "tls://admin:$(ADMIN_NATS_PASSWORD)@nats:4222"},
        {"name": "GENTING_SUBSCRIBER_NATS_URL", "value": "tls://subscriber:$(SUBSCRIBER_NATS_PASSWORD)@nats:4222"},
    ]


def rotation_env(service: str) -> list[dict[str, Any]]:
    """A data-key rotation's settings, from the Secret genting-<service>-rotation, optional: absent
    outside a rotation, and in the Deployment itself, so an upgrade (`kubectl apply -k`) keeps
    them (deploy/README.md, "Rotating keys")."""

    def optional(name: str) -> dict[str, Any]:
        ref = {"name": f"genting-{service}-rotation", "key": name, "optional": True}
        return {"name": name, "valueFrom": {"secretKeyRef": ref}}

    names = ["GENTING_DATA_KEYS_PREVIOUS"]
    if service == "registry":
        names.append("GENTING_LOOKUP_KEY")  # kept for good once a rotation has pinned it
    return [optional(n) for n in names]


# The city and its programme (GENTING_CITY, GENTING_TARGET_FAMILIES, ...): one ConfigMap that every
# service reads whole (base/city.yaml), so the four agree on the calendar and the money.
CITY_CONFIG = [{"configMapRef": {"name": "genting-city"}}]

MOUNTS = [
    {"name": "tmp", "mountPath": "/tmp"},
    {"name": "nats-ca", "mountPath": "/etc/nats-tls", "readOnly": True},
]


def deployment(service: str) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/health/live", "port": "http"}, "timeoutSeconds": 3}
    resources = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels(service)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {
            # No `replicas`: the HPA owns the count (2-8), and `kubectl apply` must not reset it.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels(service)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(service)},
                "spec": {
                    "serviceAccountName": service,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": spread,
                    # Every pod migrates before it serves: `genting migrate` takes an advisory lock,
                    # so pods starting together wait for one another and the serving container never
                    # starts on an old schema. Migrations must stay compatible with the previous
                    # release, which keeps serving during the rollout (deploy/README.md).
                    "initContainers": [
                        {
                            "name": "migrate",
                            "image": "genting",
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["migrate", service],
                            "envFrom": CITY_CONFIG,
                            "env": env(service) + topology_env(service),
                            "resources": resources,
                            "securityContext": CONTAINER_SECURITY,
                            "volumeMounts": MOUNTS,
                        }
                    ],
                    "containers": [
                        {
                            "name": service,
                            "image": "genting",
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["serve", service],
                            "envFrom": CITY_CONFIG,
                            "env": env(service),
                            "ports": [
                                {"name": "http", "containerPort": HTTP, "protocol": "TCP"},
                                {"name": "metrics", "containerPort": METRICS, "protocol": "TCP"},
                            ],
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
                            "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                            # Ready only when its database and NATS answer: out of the Service, not restarted.
                            "readinessProbe": {
                                "httpGet": {"path": "/health/ready", "port": "http"},
                                "periodSeconds": 5,
                                "timeoutSeconds": 3,
                                "failureThreshold": 2,
                            },
                            "resources": resources,
                            "securityContext": CONTAINER_SECURITY,
                            "volumeMounts": MOUNTS,
                        }
                    ],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                        # Only the CA certificate: the services never see NATS's private key.
                        {
                            "name": "nats-ca",
                            "secret": {"secretName": "nats-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
                        },
                    ],
                },
            },
        },
    }


def service_objects(service: str) -> list[dict[str, Any]]:
    meta = {"name": service, "labels": labels(service)}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False},
        deployment(service),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "selector": labels(service),
                "ports": [
                    {"name": "http", "port": HTTP, "targetPort": "http", "protocol": "TCP"},
                    {"name": "metrics", "port": METRICS, "targetPort": "metrics", "protocol": "TCP"},
                ],
            },
        },
        autoscaler(service),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(service)}},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": labels(service)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [ns_selector(INGRESS_NS), ns_selector(MONITORING_NS)],
                        "ports": [{"protocol": "TCP", "port": HTTP}],
                    },
                    {"from": [ns_selector(MONITORING_NS)], "ports": [{"protocol": "TCP", "port": METRICS}]},
                ],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": pg_cluster(service)}}}],
                        "ports": [{"protocol": "TCP", "port": 5432}],
                    },
                    {
                        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}],
                        "ports": [{"protocol": "TCP", "port": 4222}],
                    },
                    DNS_EGRESS,
                    HTTPS_EGRESS,
                ],
            },
        },
    ]


def autoscaler(service: str) -> dict[str, Any]:
    """CPU alone misses a consumer that falls behind while waiting on its database: KEDA's NATS
    JetStream scaler adds replicas when a consumer's pending count passes LAG_THRESHOLD. KEDA owns
    the HPA it creates (keda-hpa-<service>); a second HPA on the Deployment would fight it."""
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    consumers = durables(service)
    if not consumers:
        hpa = {"minReplicas": 2, "maxReplicas": 8, "metrics": [cpu]}
        return _scaling("autoscaling/v2", "HorizontalPodAutoscaler", service, hpa)
    lag = [
        {
            "type": "nats-jetstream",
            "name": f"lag-{consumer}",
            "metadata": {
                # nats-server's monitoring port (8222, admitted from the keda namespace in nats.yaml).
                "natsServerMonitoringEndpoint": "nats.genting.svc.cluster.local:8222",
                "account": "GENTING",
                "stream": stream,
                "consumer": consumer,
                "lagThreshold": str(LAG_THRESHOLD),
                "useHttps": "false",
            },
        }
        for stream, consumer in consumers
    ]
    keda = {
        "minReplicaCount": 2,
        "maxReplicaCount": 8,
        "cooldownPeriod": 300,
        "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}, *lag],
    }
    return _scaling("keda.sh/v1alpha1", "ScaledObject", service, keda)


def _scaling(api_version: str, kind: str, service: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An autoscaler (an HPA or KEDA's ScaledObject) of the service's Deployment: `spec` beside its target."""
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {"scaleTargetRef": target, **spec},
    }


def database_objects(service: str) -> list[dict[str, Any]]:
    """A PostgreSQL cluster of the service's own: its own owner, failover, backups and restore."""
    name = pg_cluster(service)
    return [
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": name, "labels": labels(service)},
            "spec": {
                "instances": 3,
                "primaryUpdateStrategy": "unsupervised",
                "storage": {"size": "20Gi"},
                "walStorage": {"size": "10Gi"},
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
                "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"},
                "postgresql": {"parameters": {"max_connections": "200", "shared_buffers": "256MB"}},
                "bootstrap": {
                    "initdb": {
                        "database": f"genting_{service}",
                        "owner": service,
                        "secret": {"name": f"{name}-owner"},
                    }
                },
                "backup": {
                    "retentionPolicy": "30d",
                    "barmanObjectStore": {
                        "destinationPath": f"s3://genting-backups/{service}",
                        "s3Credentials": {
                            "accessKeyId": {"name": "genting-backup-s3", "key": "ACCESS_KEY_ID"},
                            "secretAccessKey": {"name": "genting-backup-s3", "key": "ACCESS_SECRET_KEY"},
                        },
                        "wal": {"compression": "gzip"},
                        "data": {"compression": "gzip"},
                    },
                },
            },
        },
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": {"name": f"{name}-daily", "labels": labels(service)},
            "spec": {
                "schedule": "0 0 1 * * *",  # seconds first: 01:00 every day
                # The first base backup as soon as the cluster exists, not at the next 01:00: WAL
                # archiving alone restores nothing without one.
                "immediate": True,
                "backupOwnerReference": "self",
                "cluster": {"name": name},
                "method": "barmanObjectStore",
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": labels(service)},
            "spec": {
                "podSelector": {"matchLabels": {"cnpg.io/cluster": name}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": labels(service)}},
                            {"podSelector": {"matchLabels": {"cnpg.io/cluster": name}}},  # replication
                            ns_selector(CNPG_NS),
                        ],
                        "ports": [{"protocol": "TCP", "port": 5432}],
                    },
                    {"from": [ns_selector(CNPG_NS)], "ports": [{"protocol": "TCP", "port": 8000}]},
                    {"from": [ns_selector(MONITORING_NS)], "ports": [{"protocol": "TCP", "port": 9187}]},
                ],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": name}}}],
                        "ports": [{"protocol": "TCP", "port": 5432}],
                    },
                    # The instance manager talks to the Kubernetes API; backups go to object storage.
                    {"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]},
                    DNS_EGRESS,
                ],
            },
        },
    ]


def render(service: str) -> str:
    header = f"# GENERATED by deploy/k8s/generate.py: the {service} service and its database.\n"
    docs = service_objects(service) + database_objects(service)
    return header + yaml.safe_dump_all(docs, sort_keys=False, width=120)


def main(argv: list[str]) -> int:
    stale = []
    for service in SERVICES:
        path = OUT / f"{service}.yaml"
        text = render(service)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    if stale:
        print("stale, run python deploy/k8s/generate.py:", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
