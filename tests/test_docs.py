"""The docs that the code can keep honest: README's configuration table is generated from the
Settings class, every setting has a meaning, and the files the docs point to exist."""

import importlib.util
import re

from hub.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"


def _settings_table_module():
    spec = importlib.util.spec_from_file_location(
        "settings_table", PROJECT_ROOT / "scripts" / "settings_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_has_a_meaning():
    table = _settings_table_module()
    undocumented = [
        name for name, field in Settings.model_fields.items() if not table.meaning(name, field)
    ]
    assert undocumented == [], "give these a Field(description=...) in hub/settings.py"


def test_readme_configuration_table_is_current():
    table = _settings_table_module()
    text = README.read_text()
    assert table.replace_in(text) == text, "run: python scripts/settings_table.py --write"


def test_readme_quick_start_is_two_commands():
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["scripts/demo", "scripts/test"]
    for command in ("demo", "test"):
        assert (PROJECT_ROOT / "scripts" / command).stat().st_mode & 0o111


def test_files_named_in_the_architecture_doc_exist():
    named = set(re.findall(r"\*\*([\w/.]+\.(?:py|html))\*\*", ARCHITECTURE.read_text()))
    assert named, "the architecture doc names its files in bold"
    missing = sorted(path for path in named if not (PROJECT_ROOT / path).exists())
    assert missing == []


def test_readme_lists_every_demo_account():
    # README's table is the one `hub demo` builds from the default seed, password and TOTP included.
    from hub.demo.program import DEFAULT_SEED, demo_accounts
    from hub.demo.services import accounts_table

    section = README.read_text().split("<!-- demo-accounts:start -->", 1)[1]
    section = section.split("<!-- demo-accounts:end -->", 1)[0]
    expected = "\n".join(accounts_table(demo_accounts(DEFAULT_SEED)))
    assert expected in section, "copy the table from docs/demo-accounts.md into README.md"
