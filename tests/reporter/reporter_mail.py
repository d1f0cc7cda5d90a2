#!/usr/bin/python3
"""Mail delivery of a report against a real SMTP server (aiosmtpd) on
loopback.

mail_tool renders a ga-core report whose site names are hostile (markup,
quotes, CR/LF) and mails it with sd_delivery. The received message is
parsed with Python's email package and its parts, headers and envelope
are checked; then a delivery id sent twice, an SMTP server that defers
twice before accepting, one that rejects, and a subject with a line break.

Usage: reporter_mail.py MAIL_TOOL BUILD_FOLDER
"""
import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import tempfile

from aiosmtpd.controller import Controller

# The config rejects control characters in site names, so CR/LF reaches
# the mail only through the request's subject (case_mail checks it).
HOSTILE_SITE = '<b>Evil</b> "Site" & co'
SUBJECT = 'Zahlen f\u00fcr <b>November</b> & "\u00c4rger" \u2014 \u6708\u5831'
RECIPIENTS = ["editors@example.com", "chief@example.org"]


class Server:
    """Keeps what it accepts; answers the first `defer` DATA commands with
    451 and every one with `reject` when set."""

    def __init__(self, defer=0, reject=None):
        self.defer = defer
        self.reject = reject
        self.attempts = 0
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.reject:
            return self.reject
        if self.attempts <= self.defer:
            return "451 4.3.0 Try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def write_config(folder, port, site=HOSTILE_SITE):
    config = {
        "reporter": {"id": "rep1", "state_file": os.path.join(folder, "reporter-state.db")},
        "ga": {"sites": {site: [{"property": "310000001"}],
                         "plain.example": [{"property": "310000002"}]}},
        "smtp": {"url": "smtp://127.0.0.1:%d" % port, "from": "statsdash@example.com",
                 "reply_to": "analytics@example.com"},
    }
    path = os.path.join(folder, "config-%d.json" % port)
    with open(path, "w") as file:
        json.dump(config, file)
    return path


def run_tool(tool, config, subject, delivery_id, html_path):
    result = subprocess.run([tool, config, subject, delivery_id, ",".join(RECIPIENTS), html_path],
                            capture_output=True, text=True, timeout=90)
    check(result.returncode == 0, "mail_tool failed: %d\n%s" % (result.returncode, result.stderr))
    lines = result.stdout.strip().splitlines()
    check(len(lines) == 1, "mail_tool output: %r\n%s" % (result.stdout, result.stderr))
    return json.loads(lines[0]), result.stderr


def with_server(handler, body):
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        return body(port)
    finally:
        controller.stop()


def parts_by_type(message):
    found = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def check_message(raw):
    """Checks the headers and the MIME parts of the mailed report."""
    check(b"=?UTF-8?B?" in raw.split(b"\r\n\r\n", 1)[0], "subject not RFC 2047 encoded")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    check(str(message["Subject"]) == SUBJECT, "subject decoded as %r" % str(message["Subject"]))
    for name in ("Message-ID", "Date", "From", "To", "Reply-To", "MIME-Version"):
        check(message[name] is not None, "header %s missing" % name)
    check(message["From"].addresses[0].addr_spec == "statsdash@example.com", "From")
    check(message["Reply-To"].addresses[0].addr_spec == "analytics@example.com", "Reply-To")
    check(sorted(a.addr_spec for a in message["To"].addresses) == sorted(RECIPIENTS), "To")
    check(message["Bcc"] is None, "a Bcc header was injected")
    check(message.get_content_type() == "multipart/mixed", message.get_content_type())
    check(not message.defects, "message defects: %r" % message.defects)

    parts = parts_by_type(message)
    text = parts["text/plain"][0].get_content()
    check("Pageviews: " in text and "MoM" in text and "YoY" in text, "text part:\n" + text)
    check("open in HTML" not in text.lower(), "text part only points to the HTML")
    html = parts["text/html"][0].get_content()
    images = parts["image/png"]
    check(len(images) == 1, "inline images: %d" % len(images))
    content_id = images[0]["Content-ID"].strip("<>")
    check('src="cid:%s"' % content_id in html, "the HTML does not show the chart " + content_id)
    check(images[0].get_content().startswith(b"\x89PNG\r\n\x1a\n"), "the image is not a PNG")
    check(images[0].get_content_disposition() == "inline", "image not inline")
    related = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    check(related and any(p.get_content_type() == "image/png" for p in related[0].iter_parts()),
          "the image is not in multipart/related with the HTML")

    csv_part = parts["text/csv"][0]
    check(csv_part.get_content_disposition() == "attachment", "CSV not an attachment")
    check(csv_part.get_filename() == "statsdash-ga-core-2026-11-30.csv", csv_part.get_filename())
    csv_text = csv_part.get_content()
    check('"<b>Evil</b> ""Site"" & co"' in csv_text,
          "hostile site not quoted in the CSV")
    check_html(html)
    check("&lt;b&gt;Evil&lt;/b&gt; &quot;Site&quot; &amp; co" in html, "hostile site not escaped")
    check("<title>Zahlen f\u00fcr &lt;b&gt;November&lt;/b&gt; &amp; &quot;\u00c4rger&quot;"
          in html, "subject not escaped in the title")


def check_html(html):
    check("<b>Evil" not in html and "<script" not in html, "markup from the data in the HTML")


def case_mail(tool, folder):
    handler = Server()
    html_path = os.path.join(folder, "mail-report.html")

    def body(port):
        config = write_config(folder, port)
        result, log = run_tool(tool, config, SUBJECT, "dlv-1", html_path)
        check(result.get("status") == "partial" and result.get("delivered") is True,
              "first delivery: %r\n%s" % (result, log))
        check(len(handler.messages) == 1, "messages received: %d" % len(handler.messages))
        mail_from, rcpt_tos, raw = handler.messages[0]
        check(mail_from == "statsdash@example.com", "envelope sender %r" % mail_from)
        check(sorted(rcpt_tos) == sorted(RECIPIENTS), "envelope recipients %r" % rcpt_tos)
        check_message(raw)

        # The file form carries the chart as a data URI.
        with open(html_path, encoding="utf-8") as file:
            page = file.read()
        check('src="data:image/png;base64,' in page, "file form without a data URI chart")
        check_html(page)

        # The same delivery id again: refused, nothing mailed.
        again, log = run_tool(tool, config, SUBJECT, "dlv-1", html_path)
        check(again.get("status") == "already_sent" and again.get("delivered") is True,
              "second delivery: %r\n%s" % (again, log))
        check(len(handler.messages) == 1, "the report was mailed twice")

        # A subject with a line break is rejected before anything is sent.
        bad, _ = run_tool(tool, config, "Report\r\nBcc: thief@evil.example", "dlv-2", html_path)
        check("subject" in bad.get("error", ""), "CR/LF subject: %r" % bad)
        check(len(handler.messages) == 1, "a mail went out with a CR/LF subject")
    with_server(handler, body)
    print("ok mail parts, headers, already_sent, CR/LF subject")


def case_retry(tool, folder):
    handler = Server(defer=2)

    def body(port):
        config = write_config(folder, port)
        result, log = run_tool(tool, config, SUBJECT, "dlv-retry", os.path.join(folder, "r.html"))
        check(result.get("delivered") is True, "deferred delivery: %r\n%s" % (result, log))
        check(handler.attempts == 3, "attempts: %d" % handler.attempts)
        check(len(handler.messages) == 1, "messages: %d" % len(handler.messages))
        check("retrying" in log, "no retry logged:\n" + log)
    with_server(handler, body)
    print("ok 451 twice, then accepted on the third attempt")


def case_rejected(tool, folder):
    handler = Server(reject="554 5.7.1 Rejected")

    def body(port):
        config = write_config(folder, port)
        result, log = run_tool(tool, config, SUBJECT, "dlv-rejected", os.path.join(folder, "x.html"))
        check(result.get("delivered") is False, "rejected delivery: %r" % result)
        check(any("not mailed" in w for w in result.get("warnings", [])), "no warning: %r" % result)
        check(handler.attempts == 1, "a 5xx reply was retried: %d" % handler.attempts)
        # Not delivered, so not recorded: the same id may be sent again.
        handler.reject = None
        again, log = run_tool(tool, config, SUBJECT, "dlv-rejected", os.path.join(folder, "x.html"))
        check(again.get("delivered") is True and again.get("status") == "partial",
              "second try after a rejection: %r\n%s" % (again, log))
    with_server(handler, body)
    print("ok 554 ends the delivery and records nothing")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tool, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="sd-mail-", dir=build) as folder:
        case_mail(tool, folder)
        case_retry(tool, folder)
        case_rejected(tool, folder)
    print("reporter_mail: all cases passed")


if __name__ == "__main__":
    main()
