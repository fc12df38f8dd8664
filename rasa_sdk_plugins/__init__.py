"""The action server, locked down. rasa-sdk 3.6 loads this package, when
installed, as its plugin (rasa_sdk/plugin.py), so `rasa run actions` gets:

- Calls to /webhook and /actions must carry the header X-Action-Secret with
  ACTION_SERVER_SECRET, which the Rasa server sends from endpoints.yml; a
  missing secret stops the action server at start-up. /health stays open.
- An error response never echoes the request: rasa-sdk's own handler sends
  the whole conversation back with a 500.
- GET /ready: 200 when the bookings database answers, else 503.
"""
import hmac
import logging
import os
import sys

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sqlalchemy import text

from core import store

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")
SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = {"/health", "/ready"}


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(sys.modules[__name__])


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    secret = os.environ.get("ACTION_SERVER_SECRET", "")
    if not secret:
        raise SystemExit("ACTION_SERVER_SECRET is not set: the action server would accept "
                         "calls from anyone. Set it to the value endpoints.yml sends.")

    @app.on_request
    async def only_with_the_secret(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("action_server.refused path=%s reason=secret", request.path)
            return response.json({"error": "forbidden"}, status=403)
        return None

    @app.on_response
    async def no_echo(_: Request, reply):
        if reply.status >= 500:
            return response.json({"error": "the action failed"}, status=reply.status)
        return None

    @app.get("/ready")
    async def ready(_: Request):
        try:
            with store.engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - reported, not raised
            return response.json({"bookings_database": f"down ({type(error).__name__})"},
                                 status=503)
        return response.json({"bookings_database": "ok"})
