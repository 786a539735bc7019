"""The company's business calendar now lives in ``sportello.core.calendars`` (the SLA
clocks use it too); this name stays for the billing code that imports it."""

from sportello.core.calendars import business_calendar

__all__ = ["business_calendar"]
