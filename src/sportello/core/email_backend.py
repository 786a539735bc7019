"""Outgoing mail written to files, durably: the e-mail backend of ``make run``.

Django's ``filebased.EmailBackend`` appends to an open file, so a process killed mid-write
leaves a truncated message at its final name. This one builds each batch in memory and
writes it with ``sportello.core.files.write_durable`` (temporary file, fsync, rename,
fsync of the folder): a file in ``EMAIL_FILE_PATH`` is either whole or absent, and it is
on disk before the send counts as done (the worker then marks the message sent).

One file per batch of ``send_messages``, which is one file per message when each message is
sent on its own connection, as Sportello's worker does. Names are
``YYYYmmdd-HHMMSS-microseconds-<random>.eml``, so they sort in the order written.
"""

from __future__ import annotations

import datetime
import io
import os
import uuid

from django.core.mail.backends.filebased import EmailBackend as DjangoFileEmailBackend

from sportello.core.files import write_durable


class EmailBackend(DjangoFileEmailBackend):
    def open(self):
        if self.stream is None:
            self.stream = io.BytesIO()
            return True
        return False

    def close(self):
        stream, self.stream = self.stream, None
        if stream is None or not stream.getvalue():
            return
        timestamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = os.path.join(self.file_path, f"{timestamp}-{uuid.uuid4().hex[:8]}.eml")
        write_durable(path, stream.getvalue(), replace=False)
