#!/usr/bin/python3
"""The report page in headless Chromium: the file form written by mail_tool
(whose first site's name carries a <script> tag) is loaded from disk; the
test fails on console errors, when the tables are missing from the DOM, or
when the site name's markup became an element instead of text. A screenshot is left
in the build folder (reporter-chromium.png) for a person to look at.

Usage: reporter_chromium.py MAIL_TOOL BUILD_FOLDER
Exits 77 (skipped) when Debian's chromium is not installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reporter_mail  # noqa: E402

SITE = '<script>alert("x")</script> & "Site"'


def chromium(*arguments):
    with tempfile.TemporaryDirectory(prefix="sd-chromium-") as profile:
        command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                   "--enable-logging=stderr", "--v=0"] + list(arguments)
        return subprocess.run(command, capture_output=True, text=True, timeout=120)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if not shutil.which("chromium"):
        print("chromium is not installed; run scripts/install-deps")
        sys.exit(77)
    tool, build = sys.argv[1], sys.argv[2]
    page = os.path.join(build, "reporter-chromium.html")
    screenshot = os.path.join(build, "reporter-chromium.png")
    with tempfile.TemporaryDirectory(prefix="sd-chromium-", dir=build) as folder:
        handler = reporter_mail.Server()

        def body(port):
            config = reporter_mail.write_config(folder, port, SITE)
            return reporter_mail.run_tool(tool, config, "", "dlv-page", page)
        result, log = reporter_mail.with_server(handler, body)
        reporter_mail.check(result.get("delivered") is True, "mail_tool: %r\n%s" % (result, log))

    url = "file://" + page
    dom = chromium("--dump-dom", url)
    reporter_mail.check(dom.returncode == 0, "chromium --dump-dom failed:\n" + dom.stderr)
    errors = [line for line in dom.stderr.splitlines()
              if "CONSOLE" in line or "Uncaught" in line]
    reporter_mail.check(not errors, "console errors:\n" + "\n".join(errors))
    html = dom.stdout
    reporter_mail.check(len(re.findall(r"<table\b", html)) >= 4, "tables missing from the DOM")
    reporter_mail.check("<script" not in html, "a <script> element is in the DOM")
    cells = re.findall(r"<td[^>]*>([^<]*&lt;script&gt;alert[^<]*)</td>", html)
    reporter_mail.check(cells, "the site name's markup is not shown as text in a cell")
    reporter_mail.check("Device share by month" in html, "the chart table is missing")
    reporter_mail.check(re.search(r'<img [^>]*src="data:image/png;base64,', html),
                        "the chart image is missing")

    shot = chromium("--screenshot=" + screenshot, "--window-size=1200,2000",
                    "--hide-scrollbars", url)
    reporter_mail.check(shot.returncode == 0 and os.path.getsize(screenshot) > 10000,
                        "no screenshot:\n" + shot.stderr)
    print("reporter_chromium: ok, screenshot in " + screenshot)


if __name__ == "__main__":
    main()
