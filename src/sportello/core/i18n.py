"""Translating messages of the Django-free modules where a person reads them."""

from __future__ import annotations

from django.utils.translation import gettext


def translated(message) -> str:
    """``message`` in the active language when it carries its msgid (``identifiers.Message``).

    Its values are filled in after translation; a value that is itself such a message
    (the label "The partita IVA") is translated too.
    """
    template = getattr(message, "template", None)
    if template is None:
        return str(message)
    params = {k: translated(v) for k, v in message.params.items()}
    text = gettext(template)
    return text % params if params else text
