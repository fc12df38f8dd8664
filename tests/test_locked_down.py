"""Only the channels are public: Rasa's HTTP API is off without a token, and
the action server answers only the Rasa server, never echoing a conversation."""
import pytest
import requests

from tests.support.assistant import ACTION_SECRETS

pytestmark = pytest.mark.e2e

CANARY = "Quillon Brightwater 801-555-0199"


def action_call(action: str) -> dict:
    return {"next_action": action, "sender_id": "visitor-1", "version": "3.6.21",
            "domain": {}, "tracker": {"sender_id": "visitor-1", "slots": {},
                                      "latest_message": {"text": CANARY, "intent": {}},
                                      "events": [{"event": "user", "text": CANARY}]}}


def test_rasas_http_api_is_off_without_a_token(assistant):
    for path in ["/status", "/version", "/conversations/visitor-1/tracker", "/domain"]:
        assert requests.get(f"{assistant.url}{path}", timeout=10).status_code == 404, path
    assert requests.put(f"{assistant.url}/model", json={"model_file": "x"},
                        timeout=10).status_code in (404, 405)


def test_the_action_server_refuses_calls_without_the_secret(assistant):
    webhook = f"{assistant.actions_url}/webhook"
    for headers in [{}, {"X-Action-Secret": ""}, {"X-Action-Secret": "guess"},
                    {"X-Action-Secret": ACTION_SECRETS["ACTION_SERVER_SECRET"] + "x"}]:
        reply = requests.post(webhook, json=action_call("action_disclose"), headers=headers,
                              timeout=10)
        assert reply.status_code == 403 and CANARY not in reply.text
    assert requests.get(f"{assistant.actions_url}/actions", timeout=10).status_code == 403
    assert requests.get(f"{assistant.actions_url}/health", timeout=10).ok


def test_the_action_server_runs_calls_with_the_secret(assistant):
    reply = requests.post(f"{assistant.actions_url}/webhook", json=action_call("action_disclose"),
                          headers={"X-Action-Secret": ACTION_SECRETS["ACTION_SERVER_SECRET"]},
                          timeout=10)

    assert reply.status_code == 200
    assert reply.json()["responses"]


def test_the_action_servers_errors_do_not_echo_the_conversation(assistant):
    headers = {"X-Action-Secret": ACTION_SECRETS["ACTION_SERVER_SECRET"]}
    broken = action_call("action_answer_faq")
    broken["tracker"]["latest_message"]["intent"] = ["not", "a", "mapping"]
    for body in [broken, action_call("action_that_does_not_exist")]:
        reply = requests.post(f"{assistant.actions_url}/webhook", json=body, headers=headers,
                              timeout=10)
        assert reply.status_code >= 400
        assert CANARY not in reply.text and "801-555-0199" not in reply.text
