"""Log rows in a privacy officer's words, for the reasons the flag rules give."""

from collections.abc import Iterable

from hub.privacy.flags.findings import LogRow


def clients_in_words(rows: Iterable[LogRow]) -> str:
    """ "client record 3", "2 clients (records 3 and 9)", or "": in a privacy officer's words;
    record numbers, since the console names clients only under break-glass."""
    ids = sorted({r.person_id for r in rows if r.person_id is not None})
    if not ids:
        return ""
    if len(ids) == 1:
        return f"client record {ids[0]}"
    shown = [str(i) for i in ids[:10]]
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if not more else ", ".join(shown) + more
    return f"{len(ids)} clients (records {listed})"


def tag_in_words(tag: str) -> str:
    """A log tag as a privacy officer reads it: "authz:access:denied" is "access denied"."""
    return " ".join(tag.split(":")[1:]).replace("_", " ")


def counted(count: int, noun: str) -> str:
    """ "1 read", "3 reads"."""
    return f"1 {noun}" if count == 1 else f"{count} {noun}s"


def of_clients(rows: Iterable[LogRow]) -> str:
    """ ", of client record 3" or nothing: a sign-in or a search names no client."""
    named = clients_in_words(rows)
    return f", of {named}" if named else ""
