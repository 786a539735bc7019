"""The search index: one document per ticket, kept current by ``receivers.py``.

The columns hold what the database's full-text index reads (see ``text.py``): on SQLite
the Snowball stems (``text.stemmed``), read by the FTS5 tables ``search_fts`` and
``search_keys`` through triggers; on PostgreSQL the plain words (``text.plain``), read by
the generated ``vector`` column (weighted tsvector, GIN index). ``keys`` holds the
identifiers that are searched by substring: ticket number, e-mail addresses, phone
numbers, partita IVA and codice fiscale (trigram indexes on both databases).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
        verbose_name=_("ticket"),
    )
    subject = models.TextField(_("subject"), blank=True, default="")
    meta = models.TextField(_("contact, organisation and file names"), blank=True, default="")
    body = models.TextField(_("message text"), blank=True, default="")
    keys = models.TextField(_("numbers and addresses"), blank=True, default="")

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self) -> str:
        return f"search document of ticket {self.ticket_id}"
