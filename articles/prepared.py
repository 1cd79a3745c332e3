"""Querysets compiled once and run again with new values.

A page asks a few queries on every miss whose shape never changes, only their values: a story
by its key, cards by their keys, each under published() at this moment. For those the ORM spent
three to four times as long building and compiling the SQL and making the instances as SQLite
spent answering (the card rows of six stories: 1.95 ms through the ORM, 0.56 ms here). A
Prepared query is built from stand-in values and compiled by Django's own compiler once per
process, thread, database and shape; each call runs that SQL with its own values in the
stand-ins' places, and its rows become model instances through Django's own machinery (the
compiler's converters, select_related's populators), as QuerySet iteration makes them.

Only plain values may vary: whole numbers, strings, lists of whole numbers (one compilation per
length) and aware datetimes; what changes the SQL itself is given as `shape`, one compilation
per shape. A window of rows (a page) is `window=(start, stop)`, sent as LIMIT and OFFSET values
of one compilation (a first page: its LIMIT written in, one compilation per page size). Rows
come back as instances, or as values_list() gives them. Each thread keeps at most MAX_COMPILED
compilations, the least recently used dropped first.

The stand-ins are looked for in the compiled parameters, and a second compilation with other
stand-ins must give the same SQL, put them in the same places and leave every other parameter
as it was. A query that uses a value in another form (an expression of
it, a date cut from it) is refused with NotPreparable when first asked, never answered with a
stale value."""

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import NamedTuple

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

MAX_COMPILED = 256
_local = threading.local()
_numbers = itertools.count(1)
# Moved by any settings change (tests): every compilation made before is dropped.
_generation = itertools.count(1)
_current_generation = next(_generation)


class NotPreparable(Exception):
    """The query cannot be run with new values in the stand-ins' places."""


class Prepared:
    """build(model, **shape, **values) -> the QuerySet; call with the same names.

    `rewrite`(sql, connection), when given, turns the compiled SQL into the SQL run, whose
    rows come back as the database gives them; placeholders it adds after the compiled SQL's
    own take the call's `extra` values, in order.

    `generic`: whether one plan serves every value (a key, a list of keys, the moment), so that
    PostgreSQL may prepare the statement and plan it once per connection: planning a story
    page's statement took it about 1.2 ms, running it 0.25 (_rows()). A callable is asked
    with the names of the call's values, once per compilation. Not for a query whose best plan
    depends on its values: a search's (a word in 5 stories or in 5,000), a list narrowed by a
    hashtag (2 stories or 5,000)."""

    def __init__(self, build, rewrite=None, generic: bool | Callable[[set], bool] = True):
        self.build = build
        self.rewrite = rewrite
        self.generic = generic
        self.number = next(_numbers)

    def __call__(self, model, shape: dict | None = None, window=None, extra=(), **values) -> list:
        return self.compiled(model, shape, window, values).run(values, window, extra)

    def statement(self, model, shape: dict | None = None, **values) -> "Statement":
        """The SQL a call would run, its parameters and its database, to run several calls as
        one statement (together())."""
        query = self.compiled(model, shape, None, values)
        return Statement(query.sql, query.parameters(values, None, ()), query.alias, query.generic)

    def along(self, model, shape: dict | None = None, **values) -> "Along":
        """A call of this values_list() query as a read along another query's
        (read_along()): its columns by their names, its rows made into what the call returns
        by made()."""
        query = self.compiled(model, shape, None, values)
        columns, source = query.along()
        return Along(columns, source, tuple(query.parameters(values, None, ())))

    def made(self, model, rows: list, shape: dict | None = None, **values) -> list:
        """What a call returns, from `rows` of its statement() read within another statement
        (each row its columns in the statement's order, as the database gives them)."""
        return self.compiled(model, shape, None, values).made(rows)

    def compiled(self, model, shape, window, values) -> "_Compiled":
        alias = router.db_for_read(model)
        shape = shape or {}
        form = tuple(
            (name, len(value) if isinstance(value, list | tuple) else None)
            for name, value in sorted(values.items())
        )
        compiled = getattr(_local, "compiled", None)
        if compiled is None or _local.generation != _current_generation:
            compiled = _local.compiled = OrderedDict()
            _local.generation = _current_generation
        key = (self.number, model, alias, form, tuple(sorted(shape.items())), _paged(window))
        query = compiled.get(key)
        if query is None:
            query = compiled[key] = _Compiled(self, model, alias, shape, values, window)
            if len(compiled) > MAX_COMPILED:
                compiled.popitem(last=False)
        else:
            compiled.move_to_end(key)
        return query


def _paged(window) -> tuple | None:
    """How a window is written into its compilation: a first page as its size (LIMIT n), any
    other as LIMIT and OFFSET values; None without one. A first page's LIMIT is written, not
    sent: PostgreSQL keeps one plan for a prepared statement only when that plan costs no more
    than planning for the values, and it costs a LIMIT it is not told as a tenth of the rows,
    so an API list's first page was planned again on every request (0.6 ms)."""
    if window is None:
        return None
    start, stop = window
    return ("first", max(0, stop - start)) if start == 0 else ("any",)


def _stand_ins(values: dict, round_: int) -> dict:
    """Values of the same shape that no real query holds: negative numbers, old dates, strings
    that start with a NUL."""
    counter = itertools.count(1)
    made = {}
    for name, value in values.items():
        if isinstance(value, list | tuple):
            made[name] = [-(10**15) * (round_ + 1) - next(counter) for _ in value]
        elif isinstance(value, datetime):
            made[name] = datetime(1900 + round_, 1, 2, 3, 4, 5, next(counter), tzinfo=UTC)
        elif isinstance(value, int) and not isinstance(value, bool):
            made[name] = -(10**15) * (round_ + 1) - next(counter)
        elif isinstance(value, str):
            made[name] = f"\x00stand-in {round_}.{next(counter)}"
        else:
            raise NotPreparable(f"{name}: only whole numbers, strings, lists and datetimes")
    return made


class _Compiled:
    def __init__(self, prepared, model, alias, shape, values, window):
        self.alias = alias
        self.ops = connections[alias].ops
        rounds = []
        for round_ in (0, 1):
            stand_ins = _stand_ins(values, round_)
            queryset = prepared.build(model, **shape, **stand_ins).using(alias)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            where = {}
            for name, value in stand_ins.items():
                for position, one in enumerate(value if isinstance(value, list) else [value]):
                    where[self.adapt(one)] = (name, position if isinstance(value, list) else None)
            rounds.append((compiler, sql, list(params), where))
        (compiler, sql, params, where), (_, other_sql, other_params, other_where) = rounds
        if sql != other_sql or len(params) != len(other_params):
            raise NotPreparable("the SQL changes with the values")
        self.slots = []
        for index, (one, other) in enumerate(zip(params, other_params, strict=True)):
            found = where.get(one) if _hashable(one) else None
            if found is not None and found == other_where.get(other):
                self.slots.append((index, found))
            elif found is not None or one != other:
                raise NotPreparable(f"parameter {index} ({one!r}) depends on the values")
        missing = {name for name, _ in where.values()} - {name for _, (name, _) in self.slots}
        if missing:
            raise NotPreparable(f"not in the query as given: {sorted(missing)}")
        self.paged = _paged(window)
        if self.paged is not None:
            if compiler.query.low_mark or compiler.query.high_mark is not None:
                raise NotPreparable("a window of a sliced query")
            if self.paged[0] == "first":
                sql += f" LIMIT {int(self.paged[1])}"
            else:
                sql += " LIMIT %s OFFSET %s"
        generic = prepared.generic
        self.generic = generic(set(values)) if callable(generic) else generic
        self.raw = prepared.rewrite is not None
        if self.raw:
            sql = prepared.rewrite(sql, connections[alias])
        self.sql, self.params, self.compiler = sql, params, compiler
        if self.raw:
            return
        # What values_list() gives (None: instances); values() is not supported.
        self.values = {
            ValuesListIterable: "tuples",
            FlatValuesListIterable: "flat",
            ModelIterable: None,
        }.get(queryset._iterable_class, "unsupported")
        if self.values == "unsupported":
            raise NotPreparable(f"rows as {queryset._iterable_class.__name__}")
        # The converters of the selected columns (datetimes, JSON, booleans on SQLite), made
        # once: results_iter() would look them up again for every run.
        selected = [column[0] for column in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(selected)
        if self.values:
            return
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.model = klass_info["model"]
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, alias)
        self.annotations = dict(compiler.annotation_col_map)

    def along(self) -> tuple[tuple, str]:
        """This values_list() query's columns by their names and its FROM, to be read along
        another query (Prepared.along()), made once."""
        made = getattr(self, "_along", None)
        if made is None:
            selected = self.compiler.select[0 : self.compiler.col_count]
            names = [alias for _, _, alias in selected]
            if self.values != "tuples" or None in names or len(set(names)) != len(names):
                raise NotPreparable("a read along another names its columns: values_list() only")
            quote = self.ops.quote_name
            columns = tuple(
                (f"along.{quote(name)}", kind)
                for name, kind in zip(names, self.kinds(), strict=True)
            )
            made = self._along = (columns, f"FROM ({self.sql}) along")
        return made

    def with_along(self, along) -> tuple[str, list[Callable]]:
        """The SQL of this query with the reads of `along` (read_along()), and for each read
        what takes its columns' values out of a row: made once per shape of the reads."""
        shape = tuple((read.columns, read.source, read.ahead) for read in along)
        made = getattr(self, "_with_along", None)
        if made is None:
            made = self._with_along = {}
        found = made.get(shape)
        if found is None:
            found = made[shape] = _with_along(self.sql, self.kinds(), along)
        return found

    def kinds(self) -> list[str | None]:
        """The kind of each column the query selects (_KINDS), None for any other."""
        kinds = getattr(self, "_kinds", None)
        if kinds is None:
            selected = self.compiler.select[0 : self.compiler.col_count]
            kinds = self._kinds = [_kind(column[0].output_field) for column in selected]
        return kinds

    def adapt(self, value):
        """A value as the compiled parameters hold it."""
        if isinstance(value, datetime):
            return self.ops.adapt_datetimefield_value(value)
        return value

    def parameters(self, values: dict, window, extra) -> list:
        params = list(self.params)
        for index, (name, position) in self.slots:
            value = values[name] if position is None else values[name][position]
            params[index] = self.adapt(value)
        if window is not None and self.paged[0] == "any":
            start, stop = window
            params += [max(0, stop - start), start]
        return params + list(extra)

    def run(self, values: dict, window, extra=()) -> list:
        params = self.parameters(values, window, extra)
        return self.made(_rows(self.alias, self.sql, params, generic=self.generic))

    def made(self, rows: list) -> list:
        """The call's result from the rows its SQL gave: converted, and made into instances
        unless values were asked for."""
        if self.raw:
            return rows
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        if self.values == "flat":
            return [row[0] for row in rows]
        if self.values == "tuples":
            return [tuple(row) for row in rows]
        made = []
        for row in rows:
            instance = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, column in self.annotations.items():
                setattr(instance, name, row[column])
            made.append(instance)
        return made


def together(statements) -> list[list[tuple]]:
    """Run `statements` (statement()s on one database, each selecting the same number of
    columns) as one UNION ALL: one round trip instead of one each. Each one's rows come back
    in a list of its own, as the database gives them (no converters), in no promised order."""
    sql = " UNION ALL ".join(
        f"SELECT {number} AS part, rows{number}.* FROM ({statement.sql}) AS rows{number}"
        for number, statement in enumerate(statements)
    )
    params = [value for statement in statements for value in statement.params]
    (alias,) = {statement.alias for statement in statements}
    generic = all(statement.generic for statement in statements)
    rows = _rows(alias, sql, params, generic=generic)
    parts = [[] for _ in statements]
    for part, *values in rows:
        parts[part].append(tuple(values))
    return parts


class Statement(NamedTuple):
    """A call's SQL, its parameters, its database and whether one plan serves every value."""

    sql: str
    params: list
    alias: str
    generic: bool


def _rows(alias: str, sql: str, params: list, *, generic: bool) -> list:
    """The rows of `sql` run with `params`. On PostgreSQL a `generic` statement is prepared,
    once per connection (ops/postgresql/base.py PreparingCursor): later calls send only their
    values, and the server plans it once (after five runs planned for their values, it keeps
    one plan for all when that plan costs no more). Any other is planned for its values on
    every call, as Django's own queries are."""
    connection = connections[alias]
    cursor = connection.preparing_cursor() if generic else connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Along(NamedTuple):
    """A read sent along with a compiled query's own (read_along()): the expressions it
    selects, each (SQL, kind: a value of _KINDS), and its FROM and WHERE (`source`, its
    placeholders' values `params`). `ahead`: a WITH query the read selects from, written
    `name AS (…)` (its placeholders' values `ahead_params`), put after `own`: PostgreSQL's
    INSERT … RETURNING goes there (SQLite takes no write in a WITH)."""

    columns: tuple[tuple[str, str], ...]
    source: str
    params: tuple = ()
    ahead: str = ""
    ahead_params: tuple = ()


# The kinds of column a read along another may be put in, by the internal type of a model
# field (a relation's, its target's): the types a UNION ALL of the two puts together on every
# database (an integer with any integer, text with any text).
_KINDS = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
        ),
        "int",
    ),
    **dict.fromkeys(("CharField", "TextField", "SlugField", "URLField", "FileField"), "text"),
    "JSONField": "json",
    "DateTimeField": "datetime",
}


def _kind(field) -> str | None:
    if field.is_relation:
        field = field.target_field
    return _KINDS.get(field.get_internal_type())


def read_along(prepared: Prepared, model, along: list[Along], shape=None, window=None, **values):
    """What `prepared` returns for `values` (and `window`), and the rows of each of `along`,
    in one statement: one round trip instead of one each. The query's own rows come first in
    a UNION ALL, so its columns' types are the statement's; each read along it has its
    columns put in free columns of the same kind, NULL in the others (an integer with no
    integer column left goes in a text column and is read back as an integer). Its rows come
    back as tuples of its columns in their order, as the database gives them (no
    converters), in no promised order (select a ROW_NUMBER() to sort by). A read may name the
    query's rows `own` (a WITH query: `... IN (SELECT own.pk FROM own)` for a values_list()
    of "pk"). A read that does not fit is refused with NotPreparable. With no reads, the query
    runs alone."""
    query = prepared.compiled(model, shape, window, values)
    if not along:
        return query.run(values, window), []
    sql, places = query.with_along(along)
    params = query.parameters(values, window, ())
    # In the order of their placeholders: the query's, the WITH queries', the reads'.
    for read in along:
        params += read.ahead_params
    for read in along:
        params += read.params
    rows = _rows(query.alias, sql, params, generic=query.generic)
    own, others = [], [[] for _ in along]
    for part, *row in rows:
        if part == 0:
            own.append(row)
        else:
            others[part - 1].append(places[part - 1](row))
    return query.made(own), others


def _with_along(sql: str, kinds: list, along: list[Along]) -> tuple[str, list[Callable]]:
    ahead = "".join(f", {read.ahead}" for read in along if read.ahead)
    parts = [f"WITH own AS ({sql}){ahead} SELECT 0, own.* FROM own"]
    places = []
    for number, read in enumerate(along, 1):
        free = list(enumerate(kinds))
        place, shown, cast = [], {}, []
        for expression, kind in read.columns:
            found = next((i for i, (_, free_kind) in enumerate(free) if free_kind == kind), None)
            if found is None and kind == "int":
                # An integer with no integer column left goes as text, and is read back.
                found = next(
                    (i for i, (_, free_kind) in enumerate(free) if free_kind == "text"), None
                )
                expression = f"CAST({expression} AS TEXT)"
                cast.append(len(place))
            if found is None:
                raise NotPreparable(f"no {kind} column left for {expression}")
            index = free.pop(found)[0]
            place.append(index)
            shown[index] = expression
        columns = ", ".join(shown.get(index, "NULL") for index in range(len(kinds)))
        parts.append(f"SELECT {number}, {columns} {read.source}")
        places.append(_taker(place, cast))
    return " UNION ALL ".join(parts), places


def _taker(place: list[int], cast: list[int]) -> Callable:
    """What takes a read's values out of a row (those at `place`, in order) as a tuple, the
    integers sent as text (at `cast`, of the read's columns) made integers again."""
    take = itemgetter(*place) if len(place) > 1 else (lambda row, index=place[0]: (row[index],))
    if not cast:
        return take

    def taken(row) -> tuple:
        values = list(take(row))
        for at in cast:
            if values[at] is not None:
                values[at] = int(values[at])
        return tuple(values)

    return taken


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def forget(**kwargs) -> None:
    """Drop every compilation (a settings change may change the SQL or its converters)."""
    global _current_generation
    _current_generation = next(_generation)


setting_changed.connect(forget)
