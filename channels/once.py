"""Idempotent turns: a message sent again is answered again, never taken twice.

A client may give each message an id (the REST channel's optional
"message_id"); the platforms give every message one: Messenger and WhatsApp
their `mid` and `wamid`, Twilio its `MessageSid`. The id travels in the
message's metadata, so it is stored with the visitor's event. When a message
with an id arrives, the conversation's stored events are read first: if a
visitor's event with that id is there, its turn ran already, and no second
turn runs. A channel that returns its replies in the HTTP answer (REST, whose
output channel is a CollectingOutputChannel) gets the replies the bot gave
then; a platform had them delivered already and is sent nothing again.

This makes nginx's retry safe (deploy/nginx.conf: a POST whose replica dies
is sent to another replica). If the dead replica had stored the turn, the
retry finds it. The check needs no store of its own: all replicas share the
tracker store, and the check runs under the conversation's lock (Rasa's
Agent.handle_message takes it around the method wrapped here,
MessageProcessor.handle_message). So a turn of the same message still
running elsewhere has finished, or its lease has run out
(cluster/lock_store.py), before the check reads the events. Nor does it
forget: a message sent again after a restart is found in the store.

Only the conversation's latest session is read: a retry comes within
seconds, a platform's redelivery within minutes (channels/memory.py also
remembers the platforms' answered ids). The replies given again are the
stored copy, masked as privacy/tracker_store.py stores them. A message
without an id costs nothing more and runs as before.

Installed with the guard when the channels register (channels.guard.answered);
like the guard, this wraps a Rasa 3.6 method and must be rechecked on a Rasa
upgrade.
"""
from __future__ import annotations

import itertools
import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
MESSAGE_ID = "message_id"  # its key in a message's metadata


def install() -> None:
    """Run a message's turn only if its id is not stored yet."""
    if getattr(MessageProcessor.handle_message, "once", False):
        return
    handle = MessageProcessor.handle_message

    async def handle_once(self: MessageProcessor,
                          message: UserMessage) -> Optional[List[Dict[str, Any]]]:
        message_id = (message.metadata or {}).get(MESSAGE_ID)
        if not message_id:
            return await handle(self, message)
        tracker = await self.tracker_store.retrieve(message.sender_id)
        replies = replies_to(tracker, message_id)
        if replies is None:
            return await handle(self, message)
        logger.info("turn.repeated channel=%s message_id=%s", message.input_channel, message_id)
        if not isinstance(message.output_channel, CollectingOutputChannel):
            return None  # a platform: the replies were delivered the first time
        await self._send_bot_messages(replies, tracker, message.output_channel)
        return message.output_channel.messages

    handle_once.once = True
    MessageProcessor.handle_message = handle_once


def replies_to(tracker: Optional[DialogueStateTracker],
               message_id: str) -> Optional[List[BotUttered]]:
    """What the bot said in answer to the visitor's message `message_id`, or
    None if the conversation holds no such message."""
    events = list(tracker.events) if tracker is not None else []
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and (event.metadata or {}).get(MESSAGE_ID) == message_id:
            turn = itertools.takewhile(lambda later: not isinstance(later, UserUttered),
                                       events[index + 1:])
            return [later for later in turn if isinstance(later, BotUttered)]
    return None
