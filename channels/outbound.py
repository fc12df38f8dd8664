"""The one seam to the platforms' send APIs (Graph API, Twilio): an HTTP POST
with an explicit timeout, retried on a server error, a timeout or a lost
connection. Logs carry the channel, the status and the attempt, never the
message."""
import asyncio
import logging
from typing import Any, Dict, Optional

import aiohttp

logger = logging.getLogger(__name__)

TIMEOUT_S = 10  # per attempt: Meta and Twilio answer in well under a second
ATTEMPTS = 3  # the first try and two retries
BACKOFF_S = 0.5  # doubled after each failed attempt


class DeliveryFailed(Exception):
    """The platform refused the message or could not be reached."""


async def post(channel: str, url: str, *, json: Optional[Dict[str, Any]] = None,
               data: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None,
               auth: Optional[aiohttp.BasicAuth] = None) -> Dict[str, Any]:
    """POST to a platform; its JSON answer. Raises DeliveryFailed."""
    delay = BACKOFF_S
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, json=json, data=data, headers=headers,
                                        auth=auth) as response:
                    if response.status < 300:
                        return await response.json(content_type=None) or {}
                    logger.warning("send.refused channel=%s status=%s attempt=%s",
                                   channel, response.status, attempt)
                    if response.status < 500:
                        raise DeliveryFailed(f"{channel}: HTTP {response.status}")
        except (asyncio.TimeoutError, aiohttp.ClientConnectionError) as error:
            logger.warning("send.unreachable channel=%s attempt=%s error=%s",
                           channel, attempt, type(error).__name__)
        if attempt < ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    raise DeliveryFailed(f"{channel}: no success after {ATTEMPTS} attempts")
