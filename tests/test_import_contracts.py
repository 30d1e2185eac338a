"""The contract that keeps client rows out of routes (.importlinter) names its modules one by
one, since a wildcard covers only a whole module name: every web module must be among them."""

import configparser
import fnmatch
from pathlib import Path

from hub.settings import PROJECT_ROOT

WEB_MODULE_NAMES = ("routes.py", "*_routes.py", "pages.py", "api.py")


def test_every_route_page_and_api_module_is_bound_by_the_client_rows_contract():
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / ".importlinter")
    contract = config["importlinter:contract:client-rows-through-the-policy"]
    sources = contract["source_modules"].split()
    hub = PROJECT_ROOT / "hub"
    web_modules = [
        ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        for path in sorted(hub.rglob("*.py"))
        if any(fnmatch.fnmatch(path.name, name) for name in WEB_MODULE_NAMES)
        and Path("web") not in path.relative_to(hub).parents
    ]
    assert web_modules
    unbound = [m for m in web_modules if not any(fnmatch.fnmatch(m, s) for s in sources)]
    assert not unbound, f"add them to .importlinter's source_modules: {unbound}"
