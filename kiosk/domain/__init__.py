"""The domain: who may check in for what, programme progress, attendance, fees, parking tickets,
alerts and the day's read models. Plain Python on the database models; may import
``kiosk.core``, ``kiosk.programme``, ``kiosk.db`` and ``devices``, never a screen, the command
line, ``sync`` or Textual."""
