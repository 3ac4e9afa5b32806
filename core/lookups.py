"""`field__any=[...]`: PostgreSQL's `= ANY(%s)` with the whole list as one array parameter.

For long lists of ids (a feed page's 5 000 hashes): `__in` builds and sends one placeholder per value, which
costs more than the query itself. Registered on every field in PartnersConfig.ready.
"""

from django.db.models import Field, ForeignObject, Lookup


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
