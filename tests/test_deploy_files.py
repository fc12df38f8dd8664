"""The production files (Dockerfile, deploy/) use cluster mode's
configuration: every variable of endpoints.cluster.yml is given, the nginx
configs are deploy/nginx.conf filled in, Rasa's API stays closed, and every
Rasa server starts with this project's changes to Rasa. Fast:
nothing is started; `docker compose config` and `nginx -t` check the files
where those tools are installed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from channels.webhooks import META_MAX_BODY_BYTES, TWILIO_MAX_BODY_BYTES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
TEMPLATE = DEPLOY / "nginx.conf"
ENDPOINTS = "endpoints.cluster.yml"
PUBLIC_LOCATIONS = {"/webhooks/", "/webhooks/messenger/", "/webhooks/whatsapp/",
                    "/webhooks/twilio/", "/socket.io/", "= /health", "/"}
# The platforms' webhooks take larger bodies, as the replicas do.
WEBHOOK_CAPS = {"messenger": META_MAX_BODY_BYTES, "whatsapp": META_MAX_BODY_BYTES,
                "twilio": TWILIO_MAX_BODY_BYTES}


def compose() -> Dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def k8s(name: str) -> List[Dict]:
    return list(yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")))


def container(name: str) -> Dict:
    """The only container of the Deployment of k8s/<name>.yaml."""
    deployment = next(doc for doc in k8s(f"{name}.yaml") if doc["kind"] == "Deployment")
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def k8s_environment(spec: Dict) -> set:
    """The variables a container gets from its env and envFrom."""
    sources = {"configMapRef": k8s("configmap.yaml")[0]["data"],
               "secretRef": k8s("secret.example.yaml")[0]["stringData"]}
    names = {entry["name"] for entry in spec.get("env", [])}
    for source in spec.get("envFrom", []):
        (kind,) = source
        names |= set(sources[kind])
    return names


def command(value) -> str:
    return " ".join(value) if isinstance(value, list) else value


def endpoint_variables() -> set:
    return set(re.findall(r"\$\{(\w+)\}", (ROOT / ENDPOINTS).read_text(encoding="utf-8")))


def nginx_configs() -> Dict[str, str]:
    template = next(doc for doc in k8s("nginx.yaml") if doc["kind"] == "ConfigMap")
    return {"compose": (DEPLOY / "nginx.compose.conf").read_text(encoding="utf-8"),
            "k8s": template["data"]["nginx.conf.template"]}


def without_header(config: str) -> str:
    """The config from its first directive on: the comments on top may differ."""
    return re.sub(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*", "", config).rstrip("\n") + "\n"


def test_every_endpoint_variable_reaches_the_rasa_servers():
    needed = endpoint_variables()
    assert {"ACTION_SERVER_URL", "POSTGRES_PASSWORD", "REDIS_HOST"} <= needed
    assert needed <= set(compose()["services"]["rasa"]["environment"])
    assert needed <= k8s_environment(container("rasa"))


def test_the_action_servers_get_their_secret_and_the_bookings_database_only():
    wanted = {"ACTION_SERVER_SECRET", "SANIC_HOST", "DATABASE_URL"}
    environment = compose()["services"]["actions"]["environment"]
    assert wanted <= set(environment) and "TRACKER_DATABASE_URL" not in environment
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert wanted <= k8s_environment(container("actions"))
    assert "TRACKER_DATABASE_URL" not in k8s_environment(container("actions"))
    values = {entry["name"]: entry.get("value", "") for entry in container("actions")["env"]}
    assert values["DATABASE_URL"].startswith("postgresql://")


def test_no_secret_in_the_configmap():
    keys = k8s("configmap.yaml")[0]["data"]
    assert not [key for key in keys if "PASSWORD" in key or "SECRET" in key]


def test_the_rasa_servers_use_the_cluster_endpoints_and_no_api():
    services = compose()["services"]
    rasa_commands = [command(services["rasa"]["command"]), command(container("rasa")["command"])]
    for line in rasa_commands:
        assert f"--endpoints {ENDPOINTS}" in line
    everything = [command(service.get("command", "")) for service in services.values()]
    everything += [command(container(name).get("command", [])) for name in ("rasa", "actions")]
    everything.append((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert not [line for line in everything if "--enable-api" in line]


def dockerfile_command() -> str:
    """The Dockerfile's CMD, as a command line."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", "")
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    return command(json.loads(cmd))


def test_every_rasa_server_starts_with_the_changes_to_rasa():
    services = compose()["services"]
    for line in [command(services["rasa"]["command"]), command(container("rasa")["command"]),
                 dockerfile_command()]:
        assert line.startswith("python -m rasa_patches run --model models/assistant.tar.gz")


def test_only_nginx_publishes_a_port():
    services = compose()["services"]
    assert [name for name, service in services.items() if "ports" in service] == ["nginx"]
    assert not [name for name, service in services.items() if "network_mode" in service]
    public = [doc for doc in k8s("nginx.yaml") if doc["kind"] == "Service"
              and doc["spec"].get("type") == "LoadBalancer"]
    assert [port["port"] for doc in public for port in doc["spec"]["ports"]] == [80]


def test_the_action_calls_go_through_nginx():
    url = compose()["services"]["rasa"]["environment"]["ACTION_SERVER_URL"]
    assert url == "http://nginx:5056/webhook"
    assert any("nginx.compose.conf" in volume for volume in compose()["services"]["nginx"]["volumes"])
    host, port = re.match(r"http://([\w-]+):(\d+)/webhook$",
                          k8s("configmap.yaml")[0]["data"]["ACTION_SERVER_URL"]).groups()
    service = next(doc for doc in k8s("nginx.yaml") if doc["metadata"]["name"] == host)
    assert service["spec"]["type"] == "ClusterIP"
    assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]


@pytest.mark.parametrize("where, rasa, actions", [
    ("compose", "rasa:5005", "actions:5055"),
    ("k8s", "rasa.${POD_NAMESPACE}.svc.cluster.local:5005",
     "actions.${POD_NAMESPACE}.svc.cluster.local:5055"),
])
def test_nginx_config_is_the_template_filled_in(where, rasa, actions):
    """Line for line deploy/nginx.conf, the placeholders filled in: the
    upstream ones with zone, resolver and server lines."""
    servers = r"((?:[ \t]*(?:zone|resolver|server) [^\n]*\n)+)"
    pattern = ""
    for line in without_header(TEMPLATE.read_text(encoding="utf-8")).splitlines(keepends=True):
        if "@RASA_SERVERS@" in line or "@ACTION_SERVERS@" in line:
            pattern += servers
        else:
            pattern += (re.escape(line).replace("@RUN_DIR@", "/tmp").replace("@LISTEN@", "80")
                        .replace("@ACTIONS_LISTEN@", "5056"))
    match = re.fullmatch(pattern, without_header(nginx_configs()[where]))
    assert match, f"the {where} nginx config differs from deploy/nginx.conf"
    upstreams = [re.findall(r"server (\S+)", group) for group in match.groups()]
    assert upstreams == [[rasa], [rasa], [actions]]


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_nginx_config_keeps_rasa_closed(where):
    config = nginx_configs()[where]
    assert "client_max_body_size 16k;" in config
    assert re.search(r"location / \{\s*return 404;\s*\}", config)
    # Rasa's API (/model, /conversations, /status, ...) has no location: 404.
    assert set(re.findall(r"location ([^{]+?) \{", config)) == PUBLIC_LOCATIONS


@pytest.mark.parametrize("where", ["template", "compose", "k8s"])
def test_nginx_lets_the_platforms_webhooks_take_what_the_replicas_take(where):
    configs = {"template": TEMPLATE.read_text(encoding="utf-8"), **nginx_configs()}
    units = {"k": 1024, "m": 1024 * 1024}
    caps = {channel: int(size) * units[unit] for channel, size, unit in re.findall(
        r"location /webhooks/(\w+)/ \{\s*client_max_body_size (\d+)([km]);", configs[where])}
    assert caps == WEBHOOK_CAPS


def test_compose_file_is_valid():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"],
                                    capture_output=True).returncode != 0:
        pytest.skip("docker compose (v2) is not installed: the compose file is only parsed")
    env = {**os.environ, "POSTGRES_PASSWORD": "dummy", "REDIS_PASSWORD": "dummy",
           "ACTION_SERVER_SECRET": "dummy"}
    result = subprocess.run([docker, "compose", "-f", str(DEPLOY / "docker-compose.yml"),
                             "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def nginx_version(nginx: str) -> tuple:
    output = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    return tuple(int(part) for part in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", output).groups())


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_nginx_accepts_the_config(where, tmp_path):
    nginx = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    config = nginx_configs()[where].replace("/tmp/", f"{tmp_path}/")
    # The replicas' names resolve only in Compose or Kubernetes.
    config = re.sub(r"server \S+:(\d+)", r"server 127.0.0.1:\1", config)
    config = config.replace("${NGINX_LOCAL_RESOLVERS}", "127.0.0.1")
    if nginx_version(nginx) < (1, 27, 3):
        # `resolve` and an upstream's resolver came with 1.27.3; the images have it.
        config = re.sub(r"\n[ \t]*resolver [^\n]*", "", config).replace(" resolve ", " ")
    path = tmp_path / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-c", str(path), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_makes_the_schema_once_before_any_server_starts():
    services = compose()["services"]
    migrate = services["migrate"]
    assert command(migrate["command"]) == "python -m migrations"
    assert migrate["restart"] == "no"  # one-shot
    assert migrate["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert migrate["environment"]["TRACKER_DATABASE_URL"] == migrate["environment"]["DATABASE_URL"]
    assert migrate["environment"]["DATABASE_URL"] == services["actions"]["environment"]["DATABASE_URL"]
    for server in ("rasa", "actions"):
        assert services[server]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", ["rasa", "actions"])
def test_each_k8s_pod_makes_the_schema_before_its_server_starts(name):
    deployment = next(doc for doc in k8s(f"{name}.yaml") if doc["kind"] == "Deployment")
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    assert command(init["command"]) == "python -m migrations"
    assert init["image"] == container(name)["image"]
    values = {entry["name"]: entry.get("value", "") for entry in init["env"]}
    assert values["DATABASE_URL"] == {entry["name"]: entry.get("value") for entry in
                                      container("actions")["env"]}["DATABASE_URL"]
    assert values["TRACKER_DATABASE_URL"] == "$(DATABASE_URL)"
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST"} <= k8s_environment(init)
