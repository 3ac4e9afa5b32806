"""One kind of refusal for every surface. An action raises it; each surface turns it into its own response in one
place: the partner API's decorator (partners.api.allow) as JSON {"error", "field"}, the caller's JSON endpoint
as {"error"}, a staff page's POST (staff.decorators.object_action) as the page again with the message, or a
redirect back to it with the message."""

from contextlib import contextmanager


class Refusal(Exception):
    """A refusal a person or a partner's engineer can act on: `message` is for them, `status` for the HTTP
    response, `field` names the input at fault (None: the request as a whole)."""

    def __init__(self, message, status=400, field=None):
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


@contextmanager
def fields_under(prefix):
    """Refusals raised inside name their field within `prefix`: an action numbers the items of a list it was
    given ("[3].value"), the request body names the list ("feedback")."""
    try:
        yield
    except Refusal as refusal:
        refusal.field = prefix + (refusal.field or "")
        raise
