"""Site settings kept as data (the program's own rules that differ from site to site)."""

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel


class SiteSetting(SQLModel, table=True):
    __tablename__ = "site_setting"

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(sa_column=Column(JSON, nullable=False))


def read_setting(db: Session, key: str, default: Any = None) -> Any:
    row = db.get(SiteSetting, key)
    return default if row is None else row.value


def write_setting(db: Session, key: str, value: Any) -> None:
    row = db.get(SiteSetting, key) or SiteSetting(key=key, value=value)
    row.value = value
    db.add(row)
