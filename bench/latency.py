"""Reply latency of one visitor at a time on varied messages: the first 200
messages of blind set A, each sent once, after 20 to warm up, over REST to
the assistant started on the trained model (clinic.blind.embedded_assistant).

    python -m bench.latency
"""
import statistics
import time

import requests
import yaml

from clinic.blind import BLIND, embedded_assistant

MESSAGES = 200
WARM_UP = 20


def main() -> None:
    texts = [message["text"] for message in yaml.safe_load(
        (BLIND / "a" / "messages_faq.yml").read_text(encoding="utf-8"))["messages"]][:MESSAGES]
    with embedded_assistant() as url:
        session, webhook = requests.Session(), f"{url}/webhooks/rest/webhook"
        for text in texts[:WARM_UP]:
            session.post(webhook, json={"sender": "warm-up", "message": text}, timeout=60)
        times = []
        for number, text in enumerate(texts):
            started = time.perf_counter()
            session.post(webhook, json={"sender": f"latency-{number % 10}", "message": text},
                         timeout=60)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"p50 {statistics.median(times):.1f} ms  p95 {times[int(len(times) * 0.95)]:.1f} ms"
          f"  ({len(times)} messages, one visitor at a time)")


if __name__ == "__main__":
    main()
