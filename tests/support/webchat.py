"""The website chat's socket.io protocol, spoken by hand as the widget speaks
it (engine.io 4, socket.io 5 packets over a websocket)."""
import asyncio
import json

import websockets


async def open_websocket(url: str, origin: str):
    """A websocket to the socket.io endpoint, opened from `origin`."""
    address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return await websockets.connect(address, origin=origin, open_timeout=10)


async def receive(websocket, timeout: float) -> str:
    """The next packet within `timeout` seconds, engine.io pings answered on the way."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        packet = await asyncio.wait_for(websocket.recv(),
                                        deadline - asyncio.get_running_loop().time())
        if packet != "2":
            return packet
        await websocket.send("3")


async def emit(websocket, event: str, data: object) -> None:
    await websocket.send("42" + json.dumps([event, data]))


async def open_session(url: str, origin: str, session: object) -> tuple:
    """Speak socket.io as the widget does (engine.io 4, socket.io 5 packets
    over a websocket from `origin`; python-engineio's own websocket client
    needs a newer aiohttp than Rasa's): ask for `session`. The websocket and
    the session the server issued."""
    websocket = await open_websocket(url, origin)
    try:
        assert (await receive(websocket, 10)).startswith("0{")  # engine.io open
        await websocket.send("40")  # socket.io connect
        assert (await receive(websocket, 10)).startswith("40")
        await emit(websocket, "session_request", {"session_id": session})
        event, issued = json.loads((await receive(websocket, 10))[2:])
        assert event == "session_confirm"
        return websocket, issued
    except BaseException:
        await websocket.close()
        raise
