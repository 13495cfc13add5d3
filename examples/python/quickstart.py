"""Quickstart: the app-conversions SDK from Python, against the local sandbox endpoint.

    scripts/gen-python                        # builds the library, generates bindings/python/
    python3 examples/python/quickstart.py     # this program

It starts the sandbox endpoint (the binary in SANDBOX_BIN, else target/debug/app-conversions-sandbox,
which scripts/gen-python builds), records an app launch and a checkout, flushes, and prints what
the sandbox accepted. It exits 1 unless both events arrived. scripts/test-all runs it.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))  # where scripts/gen-python writes the module

import app_conversions as ac  # noqa: E402  (the path above first)

TOKEN = "sandbox-token"
AD_ACCOUNT = "549768257474"


def start_sandbox():
    """Starts the sandbox on a free port; returns the process and its base URL."""
    binary = os.environ.get("SANDBOX_BIN", str(ROOT / "target" / "debug" / "app-conversions-sandbox"))
    process = subprocess.Popen([binary, "--port", "0", "--token", TOKEN, "--ad-account", AD_ACCOUNT],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # "sandbox listening on http://127.0.0.1:PORT"
    if "listening on" not in line:
        process.kill()
        sys.exit(f"quickstart: the sandbox did not start ({binary})")
    return process, line.split("listening on", 1)[1].strip()


def main():
    sandbox, endpoint = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder:
            # The five required fields; every other field has a default (log_level: WARN).
            config = ac.ClientConfig(
                endpoint=endpoint,
                ad_account_id=AD_ACCOUNT,
                token=TOKEN,
                database_path=os.path.join(folder, "conversions.db"),
                action_source=ac.ActionSource.APP_ANDROID,
            )
            app = ac.AppInfo(app_id="com.example.shop", app_name="Shop", app_version="1.0")
            device = ac.DeviceInfo(model="Pixel 8", os_version="14", user_agent="Dalvik/2.1.0")
            # A test advertising id (GAID); without one, and without a relay to add the IP, an event
            # with no email cannot meet the API's identity rule.
            privacy = ac.PrivacyState(advertising_id="38400000-8cf0-11bd-b23e-10b96e40000d")
            client = ac.ConversionsClient(config, app, device, privacy)

            client.on_launch()  # app_install on a fresh buffer
            result = client.track(ac.Event(
                name=ac.EventName.CHECKOUT,
                custom_data=ac.CustomData(currency="USD", value="24.99", order_id="A-1001"),
                user_data=ac.UserData(emails=["Person@Example.com"]),  # hashed on this thread
            ))
            print(f"tracked checkout: recorded={result.recorded} event_id={result.event_id}")

            report = client.flush(10_000)  # waits up to 10 s for delivery
            print(f"flush: {report.processed} processed, {report.remaining} waiting")
            client.shutdown(5_000)

        with urllib.request.urlopen(endpoint + "/_sandbox/accepted") as answer:
            arrived = [event["event_name"] for event in json.load(answer)]
        print(f"the sandbox accepted: {', '.join(arrived)}")
        if arrived != ["app_install", "checkout"]:
            sys.exit("quickstart: expected app_install and checkout")
    finally:
        sandbox.kill()
        sandbox.wait()


if __name__ == "__main__":
    main()
