"""Benchmark of the disclosure policy: building one fully filtered client record per role.

1. The decision part, without the database: facts -> decide -> field filtering of an
   in-memory record, with the default policy and with a policy ten times its size (extra
   lines that change no decision: the same grants under stricter conditions).
2. The whole disclose_record on SQLite (facts queries, reads, log append, commit).

Prints median and p99 per role. Run from the repository root:

    /work/venv/bin/python bench/bench_policy.py [--iterations 2000] [--db-iterations 200]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from hub.crypto import generate_environment

os.environ.update(generate_environment())

from hub.accounts.sessions import Viewer
from hub.disclosure.policy import (
    POLICY_DIR,
    CompiledPolicy,
    ConsentFact,
    Facts,
    compile_policy,
    decide,
)
from hub.vocabulary import (
    Category,
    ConsentKind,
    Purpose,
    Relationship,
    Role,
)

MAIN_PURPOSE = {
    Role.officer: Purpose.referral,
    Role.sergeant: Purpose.referral,
    Role.case_manager: Purpose.case_management,
    Role.case_manager_supervisor: Purpose.case_management,
    Role.prosecutor: Purpose.charging_decision,
    Role.defender: Purpose.defense,
    Role.coordinator: Purpose.oversight,
    Role.privacy_officer: Purpose.oversight,
    Role.admin: Purpose.case_management,
}


def tenfold(policy_text: str) -> str:
    """The policy with every line repeated ten times: ten times the lines for casbin to scan
    and for the compiler to match, and not one decision changed."""
    lines = [ln for ln in policy_text.splitlines() if ln.startswith("p,")]
    return policy_text + "\n".join(line for _ in range(9) for line in lines) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def viewer(role: Role) -> Viewer:
    from hub.disclosure.tables import _agency_kind

    return Viewer(
        user_id=1, role=role, agency_id=1, agency_kind=_agency_kind(role), display_name="b"
    )


def facts_for(role: Role) -> Facts:
    related = {
        Role.officer: Relationship.own_referral,
        Role.sergeant: Relationship.agency_referral,
        Role.case_manager: Relationship.caseload,
        Role.case_manager_supervisor: Relationship.agency_client,
        Role.prosecutor: Relationship.office_matter,
        Role.defender: Relationship.defense_client,
    }.get(role, Relationship.everyone)
    consents = tuple(
        ConsentFact(
            id=n,
            kind=kind,
            categories=frozenset(Category),
            purposes=frozenset(Purpose),
            recipient_agency_id=1,
        )
        for n, kind in enumerate(
            [ConsentKind.general, ConsentKind.part2, ConsentKind.criminal_justice_referral], 1
        )
    )
    return Facts(
        person_id=1,
        relationships=frozenset({Relationship.everyone, related}),
        consents=consents,
        break_glass_id=1 if role == Role.privacy_officer else None,
    )


# An in-memory record: every field of every category, as the field map groups them.
def sample_record() -> dict[Category, dict[str, object]]:
    from hub.disclosure.field_map import FIELD_MAP, ROW_CATEGORY

    record: dict[Category, dict[str, object]] = {c: {} for c in Category}
    for table, fields in FIELD_MAP.items():
        for name, category in fields.items():
            if category is not ROW_CATEGORY:
                record[category][f"{table}.{name}"] = "value"  # type: ignore[index]
    return record


def bench_decisions(policy: CompiledPolicy, iterations: int) -> dict[Role, list[float]]:
    record = sample_record()
    notes = [(c, "note") for c in Category]
    timings: dict[Role, list[float]] = {}
    for role in Role:
        v, facts, purpose = viewer(role), facts_for(role), MAIN_PURPOSE[role]
        samples = []
        for _ in range(iterations):
            start = time.perf_counter()
            decision = decide(v, facts, purpose, policy)
            shown = {c: record[c] for c in decision.disclosed}
            kept = [n for n in notes if n[0] in decision.disclosed]
            samples.append(time.perf_counter() - start)
            assert len(shown) + len(decision.withheld) == len(Category) and kept is not None
        timings[role] = samples
    return timings


def report(title: str, timings: dict[Role, list[float]], unit: float, label: str) -> None:
    print(f"\n{title}")
    print(f"  {'role':<25} {'median':>10} {'p99':>10}  ({label})")
    for role, samples in timings.items():
        print(
            f"  {role.value:<25} {statistics.median(samples) * unit:>10.3f} "
            f"{percentile(samples, 0.99) * unit:>10.3f}"
        )


def bench_policy_in_force(iterations: int) -> None:
    """Per decision: the files (load_policy) and the released policy (policy_in_force)."""
    from sqlmodel import Session

    from hub.audit.log import Actor
    from hub.db import engine_for, migrate
    from hub.disclosure.policy import load_policy
    from hub.disclosure.releases import (
        VIA_COMMAND_LINE,
        heard_of_a_release,
        policy_in_force,
        release_policy,
    )

    def checked(db: Session) -> object:
        heard_of_a_release()  # as after a notification: the version check's query runs
        return policy_in_force(db)

    url = f"sqlite:///{tempfile.mkdtemp(prefix='hub-bench-')}/in-force.db"
    os.environ["HUB_DATABASE_URL"] = url
    migrate(url)
    engine = engine_for(url)
    print("\nlearning the policy in force, per decision (us)")
    with Session(engine) as db:
        release_policy(db, Actor(request_id="bench"), via=VIA_COMMAND_LINE)
        policy_in_force(db)
        for label, learn in (
            ("files: load_policy()", load_policy),
            ("released: policy_in_force(db)", lambda: policy_in_force(db)),
            ("  its version check (<= 1/s)", lambda: checked(db)),
        ):
            samples = []
            for _ in range(iterations):
                start = time.perf_counter()
                learn()
                samples.append(time.perf_counter() - start)
            print(
                f"  {label:<32} median {statistics.median(samples) * 1e6:8.2f}  "
                f"p99 {percentile(samples, 0.99) * 1e6:8.2f}"
            )
        db.commit()
    engine.dispose()


def bench_database(iterations: int) -> dict[Role, list[float]]:
    from sqlmodel import Session

    from hub.audit.log import Actor
    from hub.db import engine_for, migrate
    from hub.disclosure.record import disclose_record
    from hub.vocabulary import AgencyKind, AssignmentKind
    from tests import factories as f

    directory = tempfile.mkdtemp(prefix="hub-bench-")
    url = f"sqlite:///{directory}/bench.db"
    os.environ["HUB_DATABASE_URL"] = url
    migrate(url)
    engine = engine_for(url)
    timings: dict[Role, list[float]] = {}
    with Session(engine, expire_on_commit=False) as db:
        fx = f.bind(db)
        agencies = {kind: fx.Agency(kind=kind) for kind in AgencyKind}
        users = {
            role: fx.User(role=role, agency=agencies[f.agency_kind_for(role)]) for role in Role
        }
        person = f.full_client(
            db,
            referring_user=users[Role.officer],
            case_management_agency_id=agencies[AgencyKind.case_management].id,
            prosecuting_agency_id=agencies[AgencyKind.prosecution].id,
            note_author=users[Role.case_manager],
        )
        fx.ClientAssignment(person_id=person.id, user_id=users[Role.case_manager].id)
        fx.ClientAssignment(
            person_id=person.id, user_id=users[Role.defender].id, kind=AssignmentKind.defense
        )
        for role in (Role.prosecutor, Role.defender):
            fx.Consent(
                person_id=person.id,
                discloser_agency_id=agencies[AgencyKind.case_management].id,
                recipient_agency_id=users[role].agency_id,
                created_by_id=users[Role.case_manager].id,
            )
        from hub.accounts.sessions import viewer_for

        for role in Role:
            v = viewer_for(db, users[role])
            samples = []
            for _ in range(iterations):
                start = time.perf_counter()
                disclose_record(db, v, person.id, MAIN_PURPOSE[role], Actor(request_id="bench"))
                samples.append(time.perf_counter() - start)
            timings[role] = samples
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--db-iterations", type=int, default=200)
    args = parser.parse_args()
    model = (POLICY_DIR / "model.conf").read_text()
    policy_text = (POLICY_DIR / "policy.csv").read_text()
    big_text = tenfold(policy_text)
    for label, text in (("default", policy_text), ("tenfold", big_text)):
        start = time.perf_counter()
        policy = compile_policy(model, text)
        compile_seconds = time.perf_counter() - start
        print(f"\n{label} policy: {policy.lines} lines, compiled in {compile_seconds:.2f} s")
        report(
            f"decision part ({label} policy): facts -> decide -> field filtering",
            bench_decisions(policy, args.iterations),
            1e3,
            "ms",
        )
    small, big = compile_policy(model, policy_text), compile_policy(model, big_text)
    for role in Role:  # the tenfold policy decides exactly as the default
        d1 = decide(viewer(role), facts_for(role), MAIN_PURPOSE[role], small)
        d2 = decide(viewer(role), facts_for(role), MAIN_PURPOSE[role], big)
        assert (d1.disclosed, d1.withheld) == (d2.disclosed, d2.withheld), role
    # The alternative, for comparison: casbin's enforce once per category of a record.
    import casbin
    from casbin.persist.adapters.string_adapter import StringAdapter

    for label, text in (("default", policy_text), ("tenfold", big_text)):
        enforcer = casbin.Enforcer(
            casbin.Enforcer.new_model(text=model),
            StringAdapter("\n".join(ln for ln in text.splitlines() if ln.startswith("p,"))),
        )
        start = time.perf_counter()
        for _ in range(20):
            for category in Category:
                # An officer's record: 3 categories granted, 7 denied (a denial scans every line).
                enforcer.enforce("officer", "own_referral", category.value, "referral", "*")
        per_record = (time.perf_counter() - start) / 20
        print(f"\nplain casbin enforce, {label} policy: {per_record * 1e3:.2f} ms per record")
    bench_policy_in_force(args.iterations * 10)
    report(
        "whole disclose_record on SQLite (facts, reads, log append, commit)",
        bench_database(args.db_iterations),
        1e3,
        "ms",
    )


if __name__ == "__main__":
    main()
