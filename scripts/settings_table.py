"""Prints README's Configuration table from hub.settings.Settings, so the table is exact.

    python scripts/settings_table.py            # print the table
    python scripts/settings_table.py --write    # replace it in README.md

tests/test_docs.py fails when README's table differs from what this prints, or when a setting
has no meaning (a Field description, or an entry in FALLBACK_MEANINGS below).
"""

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from hub.settings import REQUIRED_SECRETS, Settings  # noqa: E402

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"

# Meanings of the settings whose Field has no description yet (moving them into
# Field(description=...) in hub/settings.py and deleting them here is welcome).
FALLBACK_MEANINGS = {
    "checkpoint_interval_seconds": "How often a signed checkpoint of the log is made.",
    "session_idle_minutes": "A session ends after this long without a request (CJIS AC-11).",
    "session_absolute_hours": "A session ends this long after sign-in, however busy (ASVS V7).",
    "lockout_failures": "Failed sign-ins within the window that lock an account (CJIS AC-7).",
    "lockout_window_minutes": "The window in which failed sign-ins are counted (CJIS AC-7).",
    "address_attempts_per_window": "Sign-in attempts one address may make in the window "
    "(against password spraying).",
    "inactive_account_days": "Accounts unused this long are disabled (CJIS AC-2(3)).",
    "intake_deadline_days": "Days a referred person has to complete intake while charges are held.",
    "deadline_near_days": "Days before the intake deadline from which a referral is flagged.",
    "break_glass_minutes": "How long an emergency (break-glass) access lasts.",
    "retention_years": "Years the disclosure log and accountings are kept (HIPAA: 6).",
}


def _default(name: str, field: Any) -> str:
    if field.default is None:
        required = name in REQUIRED_SECRETS and SecretStr in getattr(
            field.annotation, "__args__", (field.annotation,)
        )
        return "**required**" if required else "(none)"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return f"`{field.default}`"


def _allowed(field: Any) -> str:
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"≤ {high}"
    return ""


def meaning(name: str, field: Any) -> str | None:
    return field.description or FALLBACK_MEANINGS.get(name)


def table() -> str:
    lines = [
        "| Variable | Default | Allowed | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        text = (meaning(name, field) or "").replace("|", "\\|")
        cells = [f"`HUB_{name.upper()}`", _default(name, field), _allowed(field), text]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def replace_in(readme: str) -> str:
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table()}\n{END}{after}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        path = ROOT / "README.md"
        path.write_text(replace_in(path.read_text()))
    else:
        print(table())
