"""deploy/ checked as far as this machine's tools allow (issue 18, item 4): the systemd units
with `systemd-analyze verify`, each job naming a real `hub` command; the compose file against
the hub's settings and the proxy's template; the Containerfile's sources. No container engine
runs here, so the images themselves are not built."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import typer.main
import yaml

from hub.cli import app
from hub.settings import PROJECT_ROOT, Settings
from tests.conftest import missing

DEPLOY = PROJECT_ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
INSTALLED_HUB = "/opt/diversion-hub/.venv/bin/hub"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
PLACEHOLDER = re.compile(r"\$\{(HUB_PROXY_[A-Z_]+)\}")


def _units(suffix: str) -> list[Path]:
    return sorted(SYSTEMD.glob(f"*.{suffix}"))


def _exec_start(unit: Path) -> list[str]:
    (line,) = [ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart=")]
    words = shlex.split(line.removeprefix("ExecStart="))
    if words[0] == "/bin/sh":  # the backup names its directory by the date
        words = shlex.split(words[2].removeprefix("exec "))
    return words


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze is not installed (Debian: systemd)")
    assert analyze is not None
    # verify insists that ExecStart's program exists: point the units at this checkout's hub.
    here = tmp_path / "systemd"
    shutil.copytree(SYSTEMD, here)
    hub = str(Path(sys.executable).with_name("hub"))
    for unit in here.glob("*.service"):
        unit.write_text(unit.read_text().replace(INSTALLED_HUB, hub))
    units = sorted(str(p) for p in [*here.glob("*.service"), *here.glob("*.timer")])
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *units], capture_output=True, text=True, check=False
    )
    # An unknown key in the shared drop-in is only a warning: nothing may be said at all.
    assert (checked.returncode, checked.stderr) == (0, "")


def test_every_job_runs_a_hub_command_on_a_timer():
    command = typer.main.get_command(app)
    services = {p.stem for p in _units("service")} - {"diversion-hub-web"}
    assert services == {p.stem for p in _units("timer")}
    for name in [*services, "diversion-hub-web"]:
        words = _exec_start(SYSTEMD / f"{name}.service")
        assert words[0] == INSTALLED_HUB, name
        group = command
        for word in words[1:]:
            if word.startswith("-") or not hasattr(group, "commands"):
                break
            assert word in group.commands, f"{name}: `hub {' '.join(words[1:])}` is no command"
            group = group.commands[word]


def test_compose_publishes_the_proxy_only():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "migrate", "hub", "proxy"}
    assert [name for name, s in services.items() if "ports" in s] == ["proxy"]
    assert COMPOSE["networks"]["backend"]["internal"] is True
    assert services["postgres"]["networks"] == ["backend"]


def test_compose_trusts_exactly_its_proxy():
    services = COMPOSE["services"]
    proxy_address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    assert services["hub"]["environment"]["HUB_TRUSTED_PROXIES"] == proxy_address
    hub_address = services["hub"]["networks"]["edge"]["ipv4_address"]
    assert services["proxy"]["environment"]["HUB_PROXY_UPSTREAM"] == f"{hub_address}:8000"


def test_compose_settings_are_the_hubs_and_hold_no_secret():
    known = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "hub"):
        environment = COMPOSE["services"][name].get("environment", {})
        hub_names = {key for key in environment if key.startswith("HUB_")}
        assert hub_names <= known, f"{name}: not settings of the hub: {hub_names - known}"
        assert not hub_names & {"HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY"}
        assert COMPOSE["services"][name]["env_file"], "secrets come from an env file"


def test_compose_fills_every_placeholder_of_the_proxy_template():
    proxy = COMPOSE["services"]["proxy"]
    (template_mount,) = [v for v in proxy["volumes"] if v.endswith(".template:ro")]
    source, target, _ = template_mount.split(":")
    assert target.startswith("/etc/nginx/templates/")
    placeholders = set(PLACEHOLDER.findall((DEPLOY / source).read_text()))
    assert placeholders == set(proxy["environment"])


def test_compose_and_containerfile_name_files_that_exist():
    services = COMPOSE["services"]
    for name in ("migrate", "hub"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source not in ("./tls",):
                assert (DEPLOY / source).exists(), source
    containerfile = (DEPLOY / "Containerfile").read_text()
    for line in containerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT_ROOT / source).exists(), source
    # The hub runs as its own account, never as root.
    assert re.search(r"^USER hub$(?s:.*)^CMD \[\"hub\", \"serve\"", containerfile, re.M)
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert "*.env" in ignored and ".git" in ignored


def test_the_migrate_service_applies_the_grants_file():
    command = " ".join(COMPOSE["services"]["migrate"]["command"])
    assert "hub migrate && psql" in command
    grants = re.search(r"-f (\S+)", command)
    assert grants and (PROJECT_ROOT / grants.group(1)).is_file()


def test_scripts_install_brings_nginx():
    # CI's fresh machine gets nginx from scripts/install --test; the proxy test installs nothing.
    install = (PROJECT_ROOT / "scripts" / "install").read_text()
    assert "apt-get install -y -qq --no-install-recommends nginx" in install
