"""The README's pictures of the hub (docs/screenshots/): the work-group agenda, the charging
queue and the caseload, as the demo's coordinator, prosecutor and case manager see them, at
desktop width.

    .venv/bin/python bench/screenshots.py [--out docs/screenshots] [--persons 60]

A real `hub serve` on a fresh SQLite demo and Debian's chromium through Playwright, as the
browser tests run them: every request that is not to 127.0.0.1 is refused, and the CDN's htmx
is answered from the pinned npm package. The demo is fictional: no real person appears.
"""

import argparse
import json
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hubserver import HubServer, hub_environment, run_hub, sqlite_url
from hub.settings import PROJECT_ROOT
from tests.fixtures.browser import CHROMIUM_ARGS, HTMX_FILE, chromium_path, keep_to_loopback

DESKTOP = {"width": 1280, "height": 900}
# (file, the role whose demo account looks, the page, what must be on it before the picture)
PICTURES = [
    ("agenda.png", "coordinator", "/work-group", "h1"),
    ("charging-queue.png", "prosecutor", "/charging", "h1"),
    ("caseload.png", "case_manager", "/caseload", "h1"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign_in(page: Any, account: dict[str, str]) -> None:
    page.context.clear_cookies()
    page.goto("/sign-in")
    page.fill('input[name="email"]', account["email"])
    page.fill('input[name="password"]', account["password"])
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(account["totp_secret"]).now())
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def newest_meeting(page: Any) -> str:
    """The agenda page of the newest meeting the work-group page links to."""
    links = page.locator('a[href^="/work-group/meetings/"]')
    return str(links.first.get_attribute("href"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--persons", type=int, default=60)
    args = parser.parse_args(argv)
    executable = chromium_path()
    if executable is None or not HTMX_FILE.exists():
        print("error: needs Debian's chromium and `npm ci` (scripts/install --test)")
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-screenshots-") as scratch:
        env = hub_environment(sqlite_url(Path(scratch) / "hub.db"))
        accounts = json.loads(
            run_hub("demo", "--accounts-json", "--persons", str(args.persons), env=env)
        )
        by_role = {}
        for account in accounts:
            by_role.setdefault(account["role"], account)
        with (
            HubServer(env, free_port(), workers=1, log_path=Path(scratch) / "hub.log") as hub,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(base_url=hub.base_url, viewport=DESKTOP)

            keep_to_loopback(context, HTMX_FILE.read_bytes(), blocked=[])
            page = context.new_page()
            for name, role, path, ready in PICTURES:
                sign_in(page, by_role[role])
                page.goto(path)
                if path == "/work-group":
                    page.goto(newest_meeting(page))
                page.wait_for_selector(ready)
                page.screenshot(path=str(args.out / name), full_page=False)
                print(f"{args.out / name}: {role} at {page.url.replace(hub.base_url, '')}")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
