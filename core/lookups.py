"""Lookups PostgreSQL does better than Django's own.

`field__any=[...]`: PostgreSQL's `= ANY(%s)` with the whole list as one array parameter. For long lists of ids
(a feed page's 5 000 hashes): `__in` builds and sends one placeholder per value, which costs more than the query
itself. Registered on every field in PartnersConfig.ready.

`after`, `before`, `up_to`: row comparisons on a position in an order of several columns (a feed's (txid, id)).
"""

from django.db.models import Field, ForeignObject, Func, Lookup, Value
from django.db.models.lookups import GreaterThan, LessThan, LessThanOrEqual


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        field = getattr(self.lhs, "output_field", None)
        prepare = field.get_db_prep_value if field is not None else (lambda v, connection: v)
        return "%s", [[prepare(item, connection) for item in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookups


class Row(Func):
    """`(a, b)`: a row of columns (names) or expressions, for PostgreSQL's row comparisons."""

    template = "(%(expressions)s)"
    output_field = Field()


def _compare(lookup, fields, position):
    """`position`: plain values, or expressions (an OuterRef's columns)."""
    return lookup(Row(*fields), Row(*(value if hasattr(value, "resolve_expression") else Value(value)
                                      for value in position)))


def after(fields, position):
    """Rows after `position` in the order of `fields` (e.g. ("txid", "id"), a feed's order), as a filter:
    `(txid, id) > (%s, %s)`. A row comparison, compared column by column, so an index on those columns serves a
    page from the position on, where an OR of the columns would scan from the start."""
    return _compare(GreaterThan, fields, position)


def before(fields, position):
    """Rows before `position` in the order of `fields`, as a filter (see `after`)."""
    return _compare(LessThan, fields, position)


def up_to(fields, position):
    """Rows at or before `position` in the order of `fields`, as a filter (see `after`)."""
    return _compare(LessThanOrEqual, fields, position)
