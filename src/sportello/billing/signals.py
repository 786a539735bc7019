"""What billing announces to the apps beside and above it (which it must not import).

``prepaid_balance_low``: an organisation's prepaid hours fell under its threshold (sent
once per crossing, after the transaction commits). Arguments: ``organisation``,
``hours`` (the usable balance, Decimal), ``threshold`` (Decimal). The portal answers with
an e-mail to the organisation's managers and to billing users (portal/prepaid_notices.py).
"""

from django.dispatch import Signal

prepaid_balance_low = Signal()
