"""How long duplicate detection takes as the number of persons on file grows (it reads every
person: see hub/referrals/duplicates.py). Prints figures; asserts nothing.

    /work/venv/bin/python bench/duplicates.py [sizes...]
"""

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update(generate_environment())


def main(sizes: list[int]) -> None:
    from faker import Faker
    from sqlmodel import Session

    from hub.clients.models import Person, PersonAlias
    from hub.db import engine_for, migrate
    from hub.referrals.duplicates import find_possible_duplicates
    from hub.referrals.rules import default_rules

    fake = Faker()
    Faker.seed(6962)
    rules = default_rules()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate(url)
        engine = engine_for(url)
        made = 0
        for size in sorted(sizes):
            with Session(engine) as db:
                while made < size:
                    person = Person(
                        first_name=fake.first_name(),
                        last_name=fake.last_name(),
                        date_of_birth=fake.date_of_birth(minimum_age=18, maximum_age=70),
                    )
                    db.add(person)
                    db.flush()
                    if made % 3 == 0:
                        db.add(PersonAlias(person_id=person.id, name=fake.name()))
                    made += 1
                db.commit()
            with Session(engine) as db:
                runs = 5
                started = time.perf_counter()
                for _ in range(runs):
                    found = find_possible_duplicates(
                        db, "Jon", "Smith", date(1980, 1, 2), ["Johnny"], rules=rules
                    )
                    db.rollback()
                elapsed = (time.perf_counter() - started) / runs
            print(f"{size:>7} persons: {elapsed * 1000:8.1f} ms per check, {len(found)} candidates")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000, 20000])
