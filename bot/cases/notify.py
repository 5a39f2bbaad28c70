"""Optional notification of urgent escalations to a webhook (off unless configured).

The payload carries no patient text: only where to look. Sent in a background thread so the
patient's emergency instruction is never delayed by it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UrgentNotifier:
    """POSTs ``{"event": "urgent_escalation", "id", "reason", "console_url"}`` to ``url``."""

    url: str
    console_base_url: str = ""
    attempts: int = 3
    timeout_s: float = 5.0

    def payload(self, escalation_id: int, reason: str) -> dict:
        base = self.console_base_url.rstrip("/")
        return {
            "event": "urgent_escalation",
            "id": escalation_id,
            "reason": reason,
            "console_url": f"{base}/staff/escalations/{escalation_id}" if base else None,
        }

    def send(self, escalation_id: int, reason: str) -> bool:
        """Delivers the notification now; True once the receiver answered 2xx."""
        body = json.dumps(self.payload(escalation_id, reason)).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    if 200 <= response.status < 300:
                        return True
            except (urllib.error.URLError, OSError) as error:
                logger.warning("urgent notification attempt %d failed: %s", attempt, error)
            time.sleep(min(2**attempt, 10) if attempt < self.attempts else 0)
        logger.error("urgent notification for escalation %s was not delivered", escalation_id)
        return False

    def send_in_background(self, escalation_id: int, reason: str) -> threading.Thread:
        thread = threading.Thread(
            target=self.send, args=(escalation_id, reason), name="urgent-notify", daemon=True
        )
        thread.start()
        return thread
