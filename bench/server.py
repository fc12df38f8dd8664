"""`rasa run` for the benchmark: the same server with one more route,
/bench/nlu-cache, so that `make bench` can read the NLU cache's hits and
misses (channels/speed.py) and start each round of load with it empty.

GET gives {"size", "hits", "misses"}; DELETE empties the cache and its
counts. Only bench/run.py starts the server this way; `make run` and the
deployments never have the route.

    python -m bench.server run --model models/assistant.tar.gz ...  (as `rasa run`)
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict

from rasa.core import run as rasa_run
from sanic import Sanic, response
from sanic.request import Request

from channels import speed

ROUTE = "/bench/nlu-cache"


def cache_counts() -> Dict[str, int]:
    cache = speed.nlu_cache
    return {"size": cache.size, "hits": cache.hits, "misses": cache.misses}


def empty_cache() -> None:
    """A new cache of the configured size (NLU_CACHE_SIZE) in place of the old."""
    speed.nlu_cache = speed.NLUCache()


async def nlu_cache(request: Request) -> Any:
    if request.method == "DELETE":
        empty_cache()
    return response.json(cache_counts())


def with_cache_route(configure_app: Callable[..., Sanic]) -> Callable[..., Sanic]:
    def configure(*args: Any, **kwargs: Any) -> Sanic:
        app = configure_app(*args, **kwargs)
        app.add_route(nlu_cache, ROUTE, methods=["GET", "DELETE"])
        return app

    return configure


def main() -> int:
    rasa_run.configure_app = with_cache_route(rasa_run.configure_app)
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
