#!/usr/bin/env python3
"""Web console (SPEC §7, issue 15.3): the weight of each page with all its assets and the time
to its load event, median of 5 loads, in the headless Chromium the browser tests use, at
360 px and at 1280 px. Prints a Markdown table.

Usage: console.py --base http://127.0.0.1:18080 --token ADMIN [--election ID] [--chromedriver PATH]
The service must hold data (e.g. `voter-meetings demo`); the first election is used by default.
"""
import argparse
import json
import statistics
import subprocess
import time
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def call(method, url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as answer:
        return json.loads(answer.read() or b"null")


class Browser:
    """One WebDriver session of chromedriver on `port`, signed in to the console."""

    def __init__(self, driver, port, width):
        self.wd = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                call("GET", self.wd + "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},900"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}}
        self.session = self.wd + "/session/" + call("POST", self.wd + "/session", caps)["value"]["sessionId"]

    def go(self, url):
        call("POST", self.session + "/url", {"url": url})

    def js(self, script):
        return call("POST", self.session + "/execute/sync", {"script": script, "args": []})["value"]

    def element(self, css):
        found = call("POST", self.session + "/element", {"using": "css selector", "value": css})["value"]
        return found[ELEMENT]

    def sign_in(self, base, token):
        self.go(base + "/sign-in")
        call("POST", f"{self.session}/element/{self.element('#token')}/value", {"text": token})
        call("POST", f"{self.session}/element/{self.element('#sign-in button')}/click", {})
        time.sleep(1)

    def close(self):
        try:
            call("DELETE", self.session)
        finally:
            self.proc.terminate()


def pages(api, token, election):
    """The console's pages, each on a record of the data set."""
    meetings = call("GET", f"{api}/meetings?election_id={election}&status=planned&limit=1", token=token)["items"]
    held = call("GET", f"{api}/meetings?election_id={election}&status=held&limit=1", token=token)["items"]
    district = call("GET", f"{api}/regions?level=district&limit=1", token=token)["items"]
    out = [("overview (province)", f"/?election_id={election}")]
    if district:
        out.append(("overview (district)", f"/?election_id={election}&region_id={district[0]['id']}"))
    out += [("agenda, day", f"/meetings?election_id={election}"),
            ("agenda, week", f"/meetings?election_id={election}&view=week")]
    if held:
        out += [("meeting (held)", f"/meetings/{held[0]['id']}"),
                ("report form", f"/meetings/{held[0]['id']}/report")]
    if meetings and meetings[0].get("sites"):
        m = meetings[0]
        out.append(("door check-in", f"/meetings/{m['id']}/checkin/{m['sites'][0]['id']}"))
    out += [("plan form", "/meetings/new"),
            ("reports", f"/reports?election_id={election}"),
            ("admin: health rules", "/admin/health-rules"),
            ("admin: venues", "/admin/venues"),
            ("admin: candidates", "/admin/candidates"),
            ("admin: tokens", "/admin/tokens")]
    return out


MEASURE = ("var n = performance.getEntriesByType('navigation')[0]; var w = n.encodedBodySize;"
           " var outside = 0;"
           " performance.getEntriesByType('resource').forEach(function (e) {"
           "   w += e.encodedBodySize; if (!e.name.startsWith(location.origin)) { outside += 1; } });"
           " return [n.loadEventEnd - n.startTime, w, outside, document.title];")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--election")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    p.add_argument("--port", type=int, default=29516)
    a = p.parse_args()
    api = a.base + "/api/v1"
    election = a.election or call("GET", f"{api}/elections?limit=1", token=a.token)["items"][0]["id"]
    todo = pages(api, a.token, election)
    results = {}
    for width in (360, 1280):
        browser = Browser(a.chromedriver, a.port, width)
        try:
            browser.sign_in(a.base, a.token)
            for name, path in todo:
                times, weight, outside = [], 0, 0
                for _ in range(5):
                    browser.go(a.base + path)
                    took, w, o, _ = browser.js(MEASURE)
                    times.append(took)
                    weight, outside = max(weight, w), max(outside, o)
                results.setdefault(name, {})[width] = (weight, statistics.median(times), outside)
        finally:
            browser.close()
    print("| page | HTML + assets (bytes, 360 px) | load, 360 px (ms) | load, 1280 px (ms) | requests outside |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, _ in todo:
        w360, t360, o360 = results[name][360]
        _, t1280, o1280 = results[name][1280]
        print(f"| {name} | {w360:,} | {t360:.0f} | {t1280:.0f} | {max(o360, o1280)} |")


if __name__ == "__main__":
    main()
