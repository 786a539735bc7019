"""The support hours as people read them, from the configured windows (SupportSettings)."""

from __future__ import annotations

from django.utils.dates import WEEKDAYS


def support_hours(windows: dict) -> list[tuple[str, list[list[str]]]]:
    """Group consecutive weekdays with the same windows: [("Monday – Friday", [...])].

    Weekday names are translated in the active language, so call it inside the
    language of the page or e-mail being rendered."""
    rows: list[tuple[int, int, list]] = []
    for day in range(7):
        spans = windows.get(str(day)) or windows.get(day) or []
        if not spans:
            continue
        if rows and rows[-1][1] == day - 1 and rows[-1][2] == spans:
            rows[-1] = (rows[-1][0], day, spans)
        else:
            rows.append((day, day, spans))
    return [
        (
            str(WEEKDAYS[first]) if first == last else f"{WEEKDAYS[first]} – {WEEKDAYS[last]}",
            spans,
        )
        for first, last, spans in rows
    ]


def support_hours_text(windows: dict) -> str:
    """One line for e-mails: "Monday – Friday 09:00-13:00, 14:30-19:00"."""
    return "; ".join(
        f"{days} {', '.join(f'{start}-{end}' for start, end in spans)}"
        for days, spans in support_hours(windows)
    )
