"""Idempotent turns: a message sent again is answered again, never taken twice.

What Rasa does: MessageProcessor.handle_message runs a turn for every
message it is given. A message that arrives twice (a client's retry after a
lost answer, nginx sending a POST again to another replica, a platform's
redelivery) is taken twice: two turns, two stored messages, and for a
booking's last step possibly two bookings.

What we change: every channel gives each message an id (the REST client's
optional "message_id", the website chat widget's own, Messenger's and
WhatsApp's `mid` and `wamid`, Twilio's `MessageSid`), carried in the
message's metadata under MESSAGE_ID and so stored with the visitor's event.
When a message with an id arrives, the conversation's stored events are read
first: if a visitor's event with that id is there, its turn ran already and
no second turn runs. The clients that ask again because they did not get the
answer are answered with the replies the bot gave then: REST, whose output
channel is a CollectingOutputChannel, in its HTTP answer, and the website
chat, on its socket (the widget sends a message again after a reconnect or a
reload). The platforms had the replies delivered the first time: nothing is
sent again. A message without an id costs nothing more and runs as before.

Why: nginx's retry is safe (deploy/nginx.conf: a POST whose replica dies is
sent to another replica); if the dead replica had stored the turn, the retry
finds it (tests/test_once.py, tests/test_cluster.py). Needed for
correctness, so the channels refuse to start without it.

The check needs no store of its own: all replicas share the tracker store,
and the check runs under the conversation's lock (Rasa's
Agent.handle_message takes it around MessageProcessor.handle_message). So a
turn of the same message still running elsewhere has finished, or its lease
has run out (cluster/lock_store.py), before the check reads the events. Nor
does it forget: a message sent again after a restart is found in the store.
Only the conversation's latest session is read: a retry comes within
seconds, a platform's redelivery within minutes (channels/memory.py also
remembers the platforms' answered ids). The replies given again are the
stored copy, masked as stores/tracker_store.py stores them.

Rasa names relied on: MessageProcessor.handle_message, its tracker_store,
and its private _send_bot_messages(events, tracker, output_channel).
"""
from __future__ import annotations

import itertools
import logging
import re
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_patches.change import Change, Replacement

logger = logging.getLogger(__name__)
MESSAGE_ID = "message_id"  # its key in a message's metadata
ID_FORM = re.compile(r"[A-Za-z0-9_.:@+-]{1,128}")  # a client's id (a UUID, hex digits)
# The output channels of the clients that ask again when no answer came:
# REST (the replies in the HTTP answer) and the website chat (channels/webchat.py).
ANSWERED_AGAIN = (CollectingOutputChannel, SocketIOOutput)


def once_per_message_id(handle):
    """MessageProcessor.handle_message, run only if the message's id is not stored yet."""
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
        output = message.output_channel
        if not isinstance(output, ANSWERED_AGAIN):
            return None  # a platform: the replies were delivered the first time
        await self._send_bot_messages(replies, tracker, output)
        return output.messages if isinstance(output, CollectingOutputChannel) else None

    return handle_once


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


CHANGE = Change("once", for_correctness=True, replaces=(
    Replacement(MessageProcessor, "handle_message", once_per_message_id),))
