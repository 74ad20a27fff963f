"""db.OneOf: a column matched against a bound list, an expanding IN on SQLite and ``= ANY`` of
one array on PostgreSQL, must select the same rows for any list, the empty one included."""

from __future__ import annotations

import pytest
from sqlalchemy import func, not_, or_, select

from alpr_guard.db import DriverSelect, OneOf
from alpr_guard.models import Agency
from alpr_guard.runtime import Runtime
from tests.conftest import OPERATING_ORI

_BY_ORI = select(Agency.ori).where(OneOf(Agency.ori, "oris")).order_by(Agency.ori)


@pytest.mark.parametrize(
    "oris",
    [
        [],
        [OPERATING_ORI],
        [OPERATING_ORI, "CA0190100", "NOSUCH000"],
        ["NOSUCH000"],
        [OPERATING_ORI, OPERATING_ORI],
        ["it's", 'a "quoted", {braced} value', "NULL"],  # array syntax is not SQL syntax
        [OPERATING_ORI + "-LONGER"],  # longer than the column: no match on its prefix
    ],
)
def test_one_of_selects_the_listed_values(rt: Runtime, oris: list[str]) -> None:
    with rt.sessions() as session:
        every = set(session.scalars(select(Agency.ori)))
        found = list(session.scalars(_BY_ORI, {"oris": oris}))
    assert {OPERATING_ORI, "CA0190100"} <= every
    assert found == sorted(every & set(oris))
    # Through the driver (SQLite: the list expanded into placeholders; PostgreSQL: prepared,
    # or SQLAlchemy's own path), the same rows.
    for prepare in (True, False):
        with rt.sessions() as session:
            rows = DriverSelect(_BY_ORI, prepare=prepare).rows(session, {"oris": oris})
        assert [ori for (ori,) in rows] == found


def test_one_of_has_one_statement_text_on_postgresql_whatever_the_length(rt: Runtime) -> None:
    with rt.sessions() as session:
        dialect = session.get_bind().dialect
    sql = str(_BY_ORI.compile(dialect=dialect))
    if dialect.name == "postgresql":
        assert "= ANY (" in sql and "IN (" not in sql
    else:
        assert "IN (" in sql and "ANY" not in sql


def test_one_of_composes_and_brings_its_table(rt: Runtime) -> None:
    oris = [OPERATING_ORI, "CA0190100"]
    with rt.sessions() as session:
        every = set(session.scalars(select(Agency.ori)))
        others = set(
            session.scalars(select(Agency.ori).where(not_(OneOf(Agency.ori, "o"))), {"o": oris})
        )
        either = set(
            session.scalars(
                select(Agency.ori).where(or_(OneOf(Agency.ori, "o"), Agency.ori == "NOSUCH000")),
                {"o": oris},
            )
        )
        # The table appears only in the WHERE clause: OneOf brings it into FROM.
        count = session.scalar(select(func.count()).where(OneOf(Agency.ori, "o")), {"o": oris})
    assert others == every - set(oris)
    assert either == set(oris)
    assert count == 2
