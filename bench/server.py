"""The benchmark's window on the Rasa server's NLU cache
(rasa_patches/nlu_cache.py): a channel of its own, so that `make bench` can
read the cache's hits and misses and start each round of load with it empty.

GET /webhooks/nlu_cache/ gives {"size", "hits", "misses"}; DELETE empties
the cache and its counts. Only bench/run.py adds the channel, to its own
copy of credentials.yml (`credentials_with_cache_route`); `make run` and the
deployments never have the route.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

import yaml
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from rasa_patches import nlu_cache as cache_module

ROOT = Path(__file__).resolve().parent.parent
ROUTE = "/webhooks/nlu_cache/"


def cache_counts() -> Dict[str, int]:
    cache = cache_module.cache
    return {"size": cache.size, "hits": cache.hits, "misses": cache.misses}


def empty_cache() -> None:
    """A new cache of the configured size (NLU_CACHE_SIZE) in place of the old."""
    cache_module.cache = cache_module.NLUCache()


async def nlu_cache(request: Request) -> Any:
    if request.method == "DELETE":
        empty_cache()
    return response.json(cache_counts())


class NLUCacheInput(InputChannel):
    """Takes no messages: only the route of the cache."""

    @classmethod
    def name(cls) -> str:
        return "nlu_cache"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("bench_nlu_cache", __name__)
        blueprint.add_route(nlu_cache, "/", methods=["GET", "DELETE"])
        return blueprint


def credentials_with_cache_route(folder: Path) -> Path:
    """credentials.yml with this channel added, written to `folder`."""
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials[f"{__name__}.{NLUCacheInput.__name__}"] = None
    path = folder / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials), encoding="utf-8")
    return path
