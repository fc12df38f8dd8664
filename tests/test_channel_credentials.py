"""Platform channels are enabled by their environment variables and refuse
to start with an empty or unsubstituted secret, naming the variable and
never its value."""
import subprocess

import pytest
import yaml

from channels.credentials import merged
from channels.messenger import MessengerInput
from channels.twilio import HardenedTwilioInput
from channels.webhooks import ChannelConfigError
from channels.whatsapp import WhatsAppInput
from tests.support.channels import SECRETS
from tests.support.project import ENV, ROOT, VENV_BIN

CHANNELS = {
    MessengerInput: {"verify_token": "FB_VERIFY_TOKEN", "app_secret": "FB_APP_SECRET",
                     "page_access_token": "FB_PAGE_ACCESS_TOKEN"},
    WhatsAppInput: {"verify_token": "WHATSAPP_VERIFY_TOKEN",
                    "app_secret": "WHATSAPP_APP_SECRET",
                    "access_token": "WHATSAPP_ACCESS_TOKEN",
                    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID"},
    HardenedTwilioInput: {"account_sid": "TWILIO_ACCOUNT_SID",
                          "auth_token": "TWILIO_AUTH_TOKEN",
                          "twilio_number": "TWILIO_WHATSAPP_NUMBER",
                          "webhook_url": "TWILIO_WEBHOOK_URL"},
}


@pytest.mark.unit
@pytest.mark.parametrize("channel", list(CHANNELS), ids=lambda channel: channel.name())
@pytest.mark.parametrize("bad", ["", "${VAR}", None])
def test_an_empty_unsubstituted_or_missing_secret_is_refused_by_name(channel, bad):
    settings = CHANNELS[channel]
    credentials = {key: SECRETS[variable] for key, variable in settings.items()}
    assert channel.from_credentials(credentials)  # complete: accepted
    key, variable = list(settings.items())[1]  # the secret or token
    broken = {**credentials, key: bad.replace("VAR", variable) if bad is not None else bad}
    with pytest.raises(ChannelConfigError) as refused:
        channel.from_credentials(broken)
    assert variable in str(refused.value)
    assert not any(value in str(refused.value) for value in SECRETS.values())


@pytest.mark.unit
def test_no_variables_set_enables_no_platform_channel():
    assert yaml.safe_load(merged({})) == yaml.safe_load((ROOT / "credentials.yml").read_text())


@pytest.mark.unit
def test_a_channel_is_enabled_when_its_variables_are_set():
    enabled = yaml.safe_load(merged({"WHATSAPP_APP_SECRET": "x"}))
    assert "channels.whatsapp.WhatsAppInput" in enabled
    assert "channels.messenger.MessengerInput" not in enabled
    assert enabled["channels.whatsapp.WhatsAppInput"]["app_secret"] == "${WHATSAPP_APP_SECRET}"


@pytest.mark.e2e
def test_the_server_refuses_to_start_with_an_empty_secret(trained_model, tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(merged({"FB_APP_SECRET": ""}))
    env = {**ENV, "ACTION_SERVER_SECRET": "x", "FB_APP_SECRET": "", "FB_VERIFY_TOKEN": SECRETS["FB_VERIFY_TOKEN"],
           "FB_PAGE_ACCESS_TOKEN": SECRETS["FB_PAGE_ACCESS_TOKEN"]}
    result = subprocess.run([str(VENV_BIN / "python"), "-m", "rasa_patches", "run",
                             "--credentials", str(credentials), "--port", "1",
                             "--model", str(trained_model)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "FB_APP_SECRET" in output and "app_secret" in output
    assert SECRETS["FB_PAGE_ACCESS_TOKEN"] not in output
