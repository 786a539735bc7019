"""The search index: the document table, then what each database indexes it with.

SQLite: two FTS5 external-content tables over ``search_searchdocument`` (words with
``unicode61 remove_diacritics 2``; identifiers with ``trigram``), kept in step by three
triggers each (insert; delete through the ``'delete'`` command with the old values;
update as delete then insert). The triggers are dropped before the tables on the way
back, or they would outlive them and break every write.

PostgreSQL: the ``unaccent`` and ``pg_trgm`` extensions, two text search configurations
(``sportello_it``, ``sportello_en``: copies of ``italian`` and ``english`` whose words go
through ``unaccent`` before the Snowball stemmer), a generated weighted ``vector`` column
(subject A, contact/organisation/files B, messages C) with a GIN index, and a trigram GIN
index on ``keys``.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(subject, meta, body, "
    "content='search_searchdocument', content_rowid='ticket_id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE search_keys USING fts5(keys, "
    "content='search_searchdocument', content_rowid='ticket_id', tokenize='trigram')",
    """CREATE TRIGGER search_doc_ai AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, subject, meta, body)
            VALUES (new.ticket_id, new.subject, new.meta, new.body);
        INSERT INTO search_keys(rowid, keys) VALUES (new.ticket_id, new.keys);
    END""",
    """CREATE TRIGGER search_doc_ad AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, subject, meta, body)
            VALUES ('delete', old.ticket_id, old.subject, old.meta, old.body);
        INSERT INTO search_keys(search_keys, rowid, keys)
            VALUES ('delete', old.ticket_id, old.keys);
    END""",
    # Two update triggers, each only when its columns changed: a new message rewrites
    # the words, rarely the identifiers, and the trigram index is the dearer one.
    """CREATE TRIGGER search_doc_au AFTER UPDATE ON search_searchdocument
    WHEN old.subject IS NOT new.subject OR old.meta IS NOT new.meta
        OR old.body IS NOT new.body
    BEGIN
        INSERT INTO search_fts(search_fts, rowid, subject, meta, body)
            VALUES ('delete', old.ticket_id, old.subject, old.meta, old.body);
        INSERT INTO search_fts(rowid, subject, meta, body)
            VALUES (new.ticket_id, new.subject, new.meta, new.body);
    END""",
    """CREATE TRIGGER search_doc_au_keys AFTER UPDATE ON search_searchdocument
    WHEN old.keys IS NOT new.keys
    BEGIN
        INSERT INTO search_keys(search_keys, rowid, keys)
            VALUES ('delete', old.ticket_id, old.keys);
        INSERT INTO search_keys(rowid, keys) VALUES (new.ticket_id, new.keys);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_doc_ai",
    "DROP TRIGGER IF EXISTS search_doc_ad",
    "DROP TRIGGER IF EXISTS search_doc_au",
    "DROP TRIGGER IF EXISTS search_doc_au_keys",
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_keys",
]


def _config(name: str, parent: str, stem: str) -> list[str]:
    return [
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}",
        f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {parent})",
        f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR "
        f"word, hword, hword_part, asciiword, asciihword, hword_asciipart "
        f"WITH unaccent, {stem}",
    ]


def _weighted(column: str, weight: str) -> str:
    return (
        f"setweight(to_tsvector('sportello_it'::regconfig, {column}) || "
        f"to_tsvector('sportello_en'::regconfig, {column}), '{weight}')"
    )


POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *_config("sportello_it", "pg_catalog.italian", "italian_stem"),
    *_config("sportello_en", "pg_catalog.english", "english_stem"),
    "ALTER TABLE search_searchdocument ADD COLUMN vector tsvector GENERATED ALWAYS AS ("
    + " || ".join(
        [_weighted("subject", "A"), _weighted("meta", "B"), _weighted("body", "C")]
    )
    + ") STORED",
    "CREATE INDEX search_doc_vector ON search_searchdocument USING gin (vector)",
    "CREATE INDEX search_doc_keys_trgm ON search_searchdocument USING gin (keys gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS search_doc_keys_trgm",
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS sportello_it",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS sportello_en",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="tickets.ticket",
                        verbose_name="ticket",
                    ),
                ),
                ("subject", models.TextField(blank=True, default="", verbose_name="subject")),
                (
                    "meta",
                    models.TextField(
                        blank=True,
                        default="",
                        verbose_name="contact, organisation and file names",
                    ),
                ),
                ("body", models.TextField(blank=True, default="", verbose_name="message text")),
                (
                    "keys",
                    models.TextField(blank=True, default="", verbose_name="numbers and addresses"),
                ),
            ],
            options={
                "verbose_name": "search document",
                "verbose_name_plural": "search documents",
            },
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
