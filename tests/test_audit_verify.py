"""`hub audit verify` finds every change made behind the triggers' back, and names the first
entry concerned."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from hub.audit.log import canonical_json, leaf_data, leaf_hash, personal_digest, personal_part
from hub.audit.models import LogEntry, TreeHead
from hub.audit.verify import Report, _EntryCheck
from hub.cli import app as cli
from tests.audit_support import add_entries, drop_triggers, rehash, row, verify

COLUMNS = (
    "seq, recorded_at, kind, tag, outcome, purpose, actor_role, actor_agency_id, categories, "
    "policy_version, actor_user_id, person_id, request_id, address, detail, salt, erased_at, "
    "personal_digest, leaf_hash"
)


def set_values(db, seq, **values):
    for name, value in values.items():
        if name in ("categories", "detail"):
            value = canonical_json(value).decode()
        db.execute(text(f"UPDATE log_entry SET {name} = :v WHERE seq = :s"), {"v": value, "s": seq})
    db.commit()


def move(db, old, new):
    db.execute(text("UPDATE log_entry SET seq = :n WHERE seq = :o"), {"n": new, "o": old})


def first(report: Report):
    assert not report.ok
    return report.first


def test_an_intact_log_verifies(db):
    add_entries(db, 12, heads_every=5)
    report = verify(db)
    assert report.ok, report.problems
    assert (report.entries, report.erased, report.heads) == (12, 0, 2)
    head = db.exec(select(TreeHead).order_by(col(TreeHead.tree_size).desc())).first()
    assert head.tree_size == 10
    add_entries(db, 0)
    from hub.audit.checkpoint import sign_checkpoint

    sign_checkpoint(db)
    db.commit()
    assert (
        verify(db).root.hex()
        == db.exec(select(TreeHead.root_hash).order_by(col(TreeHead.tree_size).desc())).first()
    )


def test_an_altered_public_field_is_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    set_values(db, 5, outcome="withheld")
    problem = first(verify(db))
    assert problem.seq == 5
    assert "does not hash to its leaf hash" in problem.what


def test_an_altered_personal_field_is_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    set_values(db, 2, person_id=99999)
    problem = first(verify(db))
    assert problem.seq == 2
    assert "personal part does not match" in problem.what
    set_values(db, 2, person_id=1002, detail={"basis": {}})
    assert first(verify(db)).seq == 2


def test_an_altered_leaf_hash_is_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    set_values(db, 6, leaf_hash=row(db, 7)["leaf_hash"])
    assert first(verify(db)).seq == 6


def test_an_alteration_with_recomputed_hashes_is_caught_by_the_signed_heads(db):
    add_entries(db, 8, heads_every=1)
    drop_triggers(db)
    values = row(db, 3) | {"outcome": "withheld", "person_id": 4242}
    set_values(db, 3, outcome="withheld", person_id=4242, **rehash(values))
    report = verify(db)
    problem = first(report)
    assert (problem.seq, problem.until) == (3, 4)
    assert "do not hash to the root signed at size 4" in problem.what


def test_a_deleted_entry_is_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    db.execute(text("DELETE FROM log_entry WHERE seq = 4"))
    db.commit()
    problem = first(verify(db))
    assert problem.seq == 4
    assert "missing" in problem.what


def test_deleted_last_entries_are_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    db.execute(text("DELETE FROM log_entry WHERE seq >= 6"))
    db.commit()
    problem = first(verify(db))
    assert problem.seq == 6
    assert "a signed head covers 8 entries" in problem.what


def test_an_inserted_entry_is_named(db):
    add_entries(db, 8, heads_every=1)
    drop_triggers(db)
    # A careful forger: moves entries 4.. up by one, recomputing their hashes, and slips a
    # well-formed entry in at 4.
    for seq in range(7, 3, -1):
        values = row(db, seq) | {"seq": seq + 1}
        move(db, seq, seq + 1)
        set_values(db, seq + 1, **rehash(values))
    forged = row(db, 3) | {"seq": 4, "person_id": 777}
    forged.update(rehash(forged))
    db.execute(
        text(f"INSERT INTO log_entry ({COLUMNS}) SELECT 4, recorded_at, kind, tag, outcome, "
             "purpose, actor_role, actor_agency_id, categories, policy_version, actor_user_id, "
             ":person, request_id, address, detail, salt, erased_at, :digest, :leaf "
             "FROM log_entry WHERE seq = 3"),
        {"person": 777, "digest": forged["personal_digest"], "leaf": forged["leaf_hash"]},
    )  # fmt: skip
    db.commit()
    report = verify(db)
    problem = first(report)
    assert problem.seq == 4
    assert report.entries == 9


def test_reordered_entries_are_named(db):
    add_entries(db, 8, heads_every=4)
    drop_triggers(db)
    move(db, 3, -1)
    move(db, 6, 3)
    move(db, -1, 6)
    db.commit()
    problem = first(verify(db))
    assert problem.seq == 3
    assert "holds the entry signed as seq 6" in problem.what


def test_a_forged_head_is_caught(db):
    add_entries(db, 4, heads_every=4)
    drop_triggers(db)
    head = db.exec(select(TreeHead)).one()
    db.execute(
        text("UPDATE tree_head SET signed_note = :n"),
        {"n": head.signed_note.replace("\n4\n", "\n3\n")},
    )
    db.commit()
    report = verify(db)
    assert any("not valid" in str(p) for p in report.problems)


def test_the_command_exits_nonzero_naming_the_entry(db):
    add_entries(db, 5, heads_every=5)
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "entries checked: 5" in result.output
    assert "OK" in result.output
    drop_triggers(db)
    set_values(db, 1, tag="changed")
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "FAILED: entry 1:" in result.output


# --- the verifier's fast encoding is the reference encoding ------------------------------------

names = st.text(min_size=0, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=3),
    max_leaves=8,
)  # fmt: skip
maybe_text = st.none() | st.text(max_size=20)
maybe_int = st.none() | st.integers(min_value=-(2**40), max_value=2**40)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=2**40),
    moment=st.datetimes(timezones=st.just(__import__("datetime").UTC)),
    kind=st.text(max_size=10),
    tag=st.text(max_size=20),
    outcome=st.text(max_size=10),
    purpose=maybe_text,
    role=maybe_text,
    agency=maybe_int,
    categories=st.lists(st.text(max_size=10), max_size=4),
    policy=maybe_text,
    user=maybe_int,
    person=maybe_int,
    request=maybe_text,
    address=maybe_text,
    detail=st.none() | st.dictionaries(names, json_values, max_size=4),
    salt=st.binary(min_size=16, max_size=16),
    stored_canonically=st.booleans(),
)
def test_fast_leaf_encoding_matches_the_reference(
    seq, moment, kind, tag, outcome, purpose, role, agency, categories, policy, user, person,
    request, address, detail, salt, stored_canonically,
):  # fmt: skip
    entry = LogEntry(
        seq=seq, recorded_at=moment, kind=kind, tag=tag, outcome=outcome, purpose=purpose,
        actor_role=role, actor_agency_id=agency, categories=categories, policy_version=policy,
        actor_user_id=user, person_id=person, request_id=request, address=address,
        detail=detail, salt=salt.hex(), personal_digest="", leaf_hash="",
    )  # fmt: skip
    entry.personal_digest = personal_digest(salt.hex(), personal_part(entry))
    entry.leaf_hash = leaf_hash(leaf_data(entry))
    dump = canonical_json if stored_canonically else (lambda v: json.dumps(v).encode())
    stored = (
        seq, moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), kind, tag, outcome, purpose, role,
        agency, dump(categories).decode(), policy, user, person, request, address,
        dump(detail).decode(), salt.hex(), False, entry.personal_digest, entry.leaf_hash,
    )  # fmt: skip
    report = Report()
    check = _EntryCheck(report)
    check.expected = seq
    assert check.leaf(stored).hex() == entry.leaf_hash
    assert report.problems == []


def test_worker_processes_find_what_one_process_finds(db):
    from hub.audit.checkpoint import verifier_key
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log

    add_entries(db, 20, heads_every=7)
    engine, verifier = db.get_bind(), Verifier.parse(verifier_key())

    def both():
        one = verify_log(engine, verifier, workers=1)
        many = verify_log(engine, verifier, workers=2, chunk_size=3)
        assert (one.entries, one.erased, one.heads, one.root) == (
            many.entries, many.erased, many.heads, many.root,
        )  # fmt: skip
        assert sorted(map(str, one.problems)) == sorted(map(str, many.problems))
        return many

    assert both().ok
    drop_triggers(db)
    set_values(db, 11, outcome="withheld")
    db.execute(text("DELETE FROM log_entry WHERE seq = 5"))
    db.commit()
    assert both().first.seq == 5
