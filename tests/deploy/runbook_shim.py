"""Stands in for `kubectl`, `docker` and `genting` while tests/deploy/test_runbook.py runs the
runbook's shell blocks: what needs no cluster runs for real (kubectl create secret --dry-run,
kubectl kustomize, docker compose config), every genting command line is parsed by the CLI's own
parser, and the rest is recorded. Exit 1, with the reason, on anything an operator would see fail."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

OUT = Path(os.environ["RUNBOOK_OUT"])
REAL_BIN = Path(os.environ["RUNBOOK_REAL_BIN"])
EXAMPLE_ENV = os.environ["RUNBOOK_EXAMPLE_ENV"]


def fail(message: str) -> None:
    print(f"runbook: {message}", file=sys.stderr)
    sys.exit(1)


def record(*words: str) -> None:
    with (OUT / "commands.log").open("a") as f:
        f.write(" ".join(words) + "\n")


def genting(args: list[str]) -> None:
    """Recorded for the test to parse with the CLI's own parser (importing the CLI here, once per
    command, would cost seconds); prints what a command's output would be where the runbook uses it."""
    if args and args[0] == "genting":
        fail(f"`genting {' '.join(args)}`: the word genting twice (invalid choice)")
    with (OUT / "genting.jsonl").open("a") as f:
        f.write(json.dumps(args) + "\n")
    record("genting", *args)
    if args[:1] == ["rotate-keys"] and "--lookup-key" in args:
        print(base64.urlsafe_b64encode(b"L" * 32).decode())


def kubectl(args: list[str]) -> None:
    rest = list(args)
    if rest[:1] == ["-n"]:
        rest = rest[2:]
    verb = rest[:2]
    if verb == ["create", "secret"]:
        proc = subprocess.run(
            [str(REAL_BIN / "kubectl"), *args, "--dry-run=client", "-o", "yaml"], capture_output=True, text=True
        )
        if proc.returncode:
            fail(f"kubectl {' '.join(args)}: {proc.stderr}")
        with (OUT / "secrets.yaml").open("a") as f:
            f.write("---\n" + proc.stdout)
    elif verb == ["get", "secret"]:
        print(base64.b64encode(b"runbook-test-plain-value-0123456789abcdef").decode(), end="")
    elif rest[:1] == ["apply"] and "-k" in rest:
        directory = rest[rest.index("-k") + 1]
        proc = subprocess.run([str(REAL_BIN / "kubectl"), "kustomize", directory], capture_output=True, text=True)
        if proc.returncode:
            fail(f"kubectl apply -k {directory}: {proc.stderr}")
    elif rest[:1] == ["exec"]:
        if "--" not in rest:
            fail(f"kubectl {' '.join(args)}: no -- before the command")
        command = rest[rest.index("--") + 1 :]
        if command[:1] == ["env"]:  # env NAME=value … genting …: settings for this one command
            command = command[1:]
            while command and "=" in command[0]:
                command = command[1:]
        if command[:1] != ["genting"]:
            fail(f"kubectl exec runs {command[:1]}: the image's tool is genting")
        genting(command[1:])
        return
    elif rest[:2] == ["patch", "secret"]:
        body = rest[rest.index("-p") + 1]
        try:
            patch = json.loads(body)
        except ValueError as exc:
            fail(f"kubectl patch: not JSON ({exc}): {body}")
        if "--type=json" in rest:
            assert isinstance(patch, list)
        elif not isinstance(patch, dict) or "stringData" not in patch:
            fail(f"kubectl patch secret without stringData: {body}")
    elif rest[:1] not in (["create"], ["rollout"], ["scale"], ["get"], ["logs"], ["set"]):
        fail(f"kubectl {' '.join(args)}: not a command this runbook should need")
    record("kubectl", *args)


def compose(args: list[str]) -> None:
    globals_: list[str] = []
    i = 0
    env_file = None
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--env-file":
            env_file = args[i + 1]
        else:
            globals_ += args[i : i + 2]
        i += 2
    if env_file != "deploy/secrets.env":
        fail(f"docker compose {' '.join(args)}: without --env-file deploy/secrets.env (missing-secret error)")
    sub, rest = args[i], args[i + 1 :]
    proc = subprocess.run(
        [str(REAL_BIN / "docker-compose"), "--env-file", EXAMPLE_ENV, *globals_, "config", "--services"],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        fail(f"docker compose {' '.join(args)}: {proc.stderr}")
    services = set(proc.stdout.split())
    flags_with_value = {"--scale", "-e", "--env"}
    positional: list[str] = []
    j = 0
    while j < len(rest):
        if rest[j] in flags_with_value:
            name = rest[j + 1].split("=")[0]
            if rest[j] == "--scale" and name not in services:
                fail(f"--scale {name}: no such service")
            j += 2
        elif rest[j].startswith("-") and not positional:
            j += 1
        else:
            positional.append(rest[j])
            j += 1
    if sub in ("exec", "run"):
        service, command = positional[0], positional[1:]
        if service not in services:
            fail(f"docker compose {sub} {service}: no such service (with {globals_})")
        if service == "postgres":
            if command[:1] not in (["pg_dump"], ["pg_restore"], ["psql"]):
                fail(f"postgres container runs {command}")
        elif sub == "exec":
            if command[:1] != ["genting"]:
                fail(f"docker compose exec {service} {command}: the container's tool is genting")
            genting(command[1:])
        else:
            genting(command)  # `run` passes its arguments to the image's entrypoint, genting
    elif sub in ("up", "stop", "start", "build", "ps", "port", "logs"):
        unknown = {p for p in positional if not p.isdigit()} - services
        if unknown:
            fail(f"docker compose {sub}: no such service {unknown}")
    else:
        fail(f"docker compose {sub}: not a command this runbook should need")
    record("docker", "compose", *args)


def main() -> None:
    name = os.environ["RUNBOOK_TOOL"]
    args = sys.argv[1:]
    if name == "kubectl":
        kubectl(args)
    elif name == "docker":
        if args[:1] != ["compose"]:
            fail(f"docker {args[:1]}: only docker compose is used")
        compose(args[1:])
    elif name == "genting":
        genting(args)
    else:
        fail(f"unknown shim {name}")


if __name__ == "__main__":
    main()
