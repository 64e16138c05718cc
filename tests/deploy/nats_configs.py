"""The NATS configuration files of deploy/nats, made runnable on this machine: a throwaway CA and
server certificate (for the TLS blocks), the container paths and ports replaced by local ones, and
every user's password in the environment as the nats-users Secret would put it."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from deploy_tools import DEPLOY, bare_env

from genting import nats_accounts

NATS_DIR = DEPLOY / "nats"
# The Kubernetes names the certificate must carry (nats-tls.yaml asks cert-manager for the same).
DNS_NAMES = ("localhost", "nats", "nats.genting.svc", "*.nats", "*.nats.genting.svc")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_pki(directory: Path) -> Path:
    """ca.crt, tls.crt and tls.key as cert-manager writes them into the Secret nats-tls."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("genting-nats-ca"))
        .issuer_name(_name("genting-nats-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in DNS_NAMES]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("nats"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        # Routes use the same certificate as client and as server (verify: true on both sides).
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
    (directory / "tls.crt").write_bytes(cert.public_bytes(pem))
    (directory / "tls.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory


def passwords() -> dict[str, str]:
    return {user: f"{user}-test-password-0123456789" for user in (*nats_accounts.USERS, nats_accounts.ADMIN)}


def server_env(pod_name: str = "nats-0") -> dict[str, str]:
    """What the StatefulSet gives the container: POD_NAME and the nats-users Secret (plain
    passwords here; nats-server accepts a bcrypt hash or a password in the same variable)."""
    env = bare_env()
    env["POD_NAME"] = pod_name
    env.update({f"{user.upper()}_NATS_AUTH": pw for user, pw in passwords().items()})
    return env


@dataclass
class Node:
    name: str
    client: int
    cluster: int
    http: int
    directory: Path

    @property
    def conf(self) -> Path:
        return self.directory / "nats-cluster.conf"


def materialize(conf: str, directory: Path, pki: Path, replacements: dict[str, str] | None = None) -> Path:
    """deploy/nats/<conf> and accounts.conf in `directory`, the container paths made local."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (NATS_DIR / conf).read_text()
    for old in replacements or {}:
        assert old in text, f"{old!r} is no longer in deploy/nats/{conf}"
    for old, new in {
        "/etc/nats-tls/": f"{pki}/",
        "/data/jetstream": str(directory / "jetstream"),
        '"/tmp/nats.pid"': f'"{directory / "nats.pid"}"',
        **(replacements or {}),
    }.items():
        text = text.replace(old, new)
    (directory / "accounts.conf").write_text((NATS_DIR / "accounts.conf").read_text())
    path = directory / conf
    path.write_text(text)
    return path


def cluster_nodes(root: Path, pki: Path) -> list[Node]:
    """Three nodes from nats-cluster.conf: ports and route hosts replaced, nothing else."""
    nodes = [Node(f"nats-{i}", free_port(), free_port(), free_port(), root / f"nats-{i}") for i in range(3)]
    for node in nodes:
        replacements = {
            "http_port: 8222": f"http_port: {node.http}",
            "\nport: 4222": f"\nport: {node.client}",
            "port: 6222": f"port: {node.cluster}",
        }
        for i, other in enumerate(nodes):
            replacements[f"nats://nats-{i}.nats:6222"] = f"nats://127.0.0.1:{other.cluster}"
        materialize("nats-cluster.conf", node.directory, pki, replacements)
    return nodes


def check_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`nats-server -t`: parse and check the configuration, start nothing."""
    return subprocess.run(
        ["nats-server", "-c", str(path), "-t"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def start(node: Node) -> subprocess.Popen[bytes]:
    log = (node.directory / "server.log").open("ab")
    return subprocess.Popen(
        ["nats-server", "-c", str(node.conf)],
        env=server_env(node.name),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def nats_server_available() -> bool:
    return any((Path(p) / "nats-server").exists() for p in os.environ.get("PATH", "").split(os.pathsep))
