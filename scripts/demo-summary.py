#!/usr/bin/env python3
"""What scripts/demo's runs sent, for a person: a table of the notices in
each state directory's outbox (as `tickler outbox --json` gives them), the
HTML of each message the maildir notifier wrote, as a file a browser opens,
with an index.html, and how to look at it all.

Usage: demo-summary.py --tickler PROG --config FILE --html DIR STATE_DIR...
"""
import argparse
import email
import email.policy
import html
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

WHAT_WIDTH = 60


def stage_words(stage):
    """The stage key of an entry (as `tickler upcoming` shows it) in words."""
    for pattern, words in ((r"lead-1", "1 day before"), (r"lead-(\d+)", "{} days before"),
                           (r"prompt-1", "1 day before"), (r"prompt-(\d+)", "{} days before"),
                           (r"overdue-m(\d+)", "overdue, month {}"),
                           (r"overdue-(\d+)", "overdue, week {}"),
                           (r"checkin-.*", "check-in"), (r"lookahead-.*", "look-ahead"),
                           (r"request-follow-up:.*", "update request follow-up"),
                           (r"request-summary:.*", "who answered"),
                           (r"request:.*", "update request"), (r"answer-.*", "officer's answer")):
        m = re.fullmatch(pattern, stage or "")
        if m:
            return words.format(*m.groups())
    if stage == "due":
        return "on the day"
    return stage or "?"


def is_observance(entry):
    return re.match(r"(prompt|lookahead)-", entry["stage"] or "") is not None


def what(notice):
    """One line: the entries of a notice grouped by stage, plan actions by
    id, observances by name."""
    groups = {}
    for e in notice["entries"]:
        key = stage_words(e["stage"]) + (" (late)" if e["late"] else "")
        name = (e["title"] or e["item"]) if is_observance(e) else e["item"]
        groups.setdefault(key, []).append(name)
    parts = []
    for key, names in groups.items():
        shown = ", ".join(names[:2]) + (" +%d" % (len(names) - 2) if len(names) > 2 else "")
        parts.append("%s: %s" % (key, shown))
    line = "; ".join(parts)
    return line if len(line) <= WHAT_WIDTH else line[:WHAT_WIDTH - 1] + "\u2026"


def messages(state):
    """The maildir notifier's messages in state, by notice id."""
    out = {}
    new = os.path.join(state, "maildir", "new")
    for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
        with open(os.path.join(new, name), "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        if msg["X-Tickler-Notice"]:
            out[int(msg["X-Tickler-Notice"])] = msg
    return out


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50]


def write_html(notices, folder):
    """Writes each message's HTML part to folder/NNN-team-subject.html and
    an index.html listing them. Returns the index's path."""
    os.makedirs(folder, exist_ok=True)
    rows = []
    for i, (state, n, msg) in enumerate(notices, 1):
        body = msg.get_body(("html",)) if msg else None
        if not body:
            continue
        name = "%03d-%s-%s.html" % (i, slug(n["team"] or n["recipient"]), slug(str(msg["Subject"])))
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(body.get_content())
        cells = [html.escape(when(n)), html.escape(n["team"] or ""), html.escape(n["recipient"]),
                 '<a href="%s">%s</a>' % (html.escape(name), html.escape(str(msg["Subject"]))),
                 html.escape(what(n))]
        rows.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
    index = os.path.join(folder, "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>tickler demo: what went out</title>\n<style>body{font-family:sans-serif}"
                "td,th{padding:2px 8px;text-align:left;vertical-align:top}td:first-child{white-space:nowrap}"
                "tr:nth-child(even){background:#f3f3f3}</style>\n</head>\n<body>\n"
                "<h1>What went out</h1>\n<p>%d messages, as the recipients' mail clients show "
                "them.</p>\n<table>\n<tr><th>When</th><th>Team</th><th>To</th><th>Subject</th>"
                "<th>What</th></tr>\n%s\n</table>\n</body>\n</html>\n"
                % (len(rows), "\n".join(rows)))
    return index


def when(n):
    """When a notice went out: when it was queued (a caught-up notice's
    due_at is the time it missed)."""
    return datetime.fromisoformat(n["queued_at"]).strftime("%a %Y-%m-%d %H:%M")


KINDS = (("lead-", "before a deadline"), ("due", "on the day"), ("overdue-m", "monthly overdue"),
         ("overdue-", "weekly overdue"), ("checkin-", "quarterly check-in"),
         ("prompt-", "before an observance"), ("lookahead-", "monthly look-ahead"))


def kind_of(stage):
    for prefix, words in KINDS:
        if (stage or "").startswith(prefix):
            return words
    return "other"


def next_day(notices):
    """The day after the last notice went out (YYYY-MM-DD)."""
    last = max((datetime.fromisoformat(n["queued_at"]) for _, n, _ in notices), default=None)
    return (last + timedelta(days=1)).strftime("%Y-%m-%d") if last else "2023-03-01"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickler", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--html", required=True)
    ap.add_argument("states", nargs="+")
    a = ap.parse_args()
    notices = []
    for state in a.states:
        out = subprocess.run([a.tickler, "-c", a.config, "--state-dir", state, "outbox", "--json"],
                             check=True, capture_output=True, text=True).stdout
        msgs = messages(state)
        for n in sorted(json.loads(out), key=lambda n: (n["queued_at"], n["id"])):
            notices.append((state, n, msgs.get(n["id"])))

    rows = [(when(n), n["team"] or "", n["recipient"], n["channel"], what(n), state)
            for state, n, _ in notices]
    head = ("When", "Team", "To", "Via", "What")
    widths = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(3)]
    fmt = "%%-%ds  %%-%ds  %%-%ds  %%-5s  %%s" % tuple(widths)
    print(fmt % head)
    last = None
    for r in rows:
        if r[5] != last:
            print("-- %s" % r[5])
            last = r[5]
        print(fmt % r[:5])
    # a notice is (its state directory, its id): each outbox numbers its own
    entries = [(state, n, e) for state, n, _ in notices for e in n["entries"]]
    officers = {(state, n["id"]) for state, n, e in entries if not is_observance(e)}
    comms = {(state, n["id"]) for state, n, e in entries if is_observance(e)}
    counts = {}
    for _, _, e in entries:
        counts[kind_of(e["stage"])] = counts.get(kind_of(e["stage"]), 0) + 1
    print()
    print("%d notices: %d with officers' reminders, %d with calendar prompts and look-aheads "
          "(the comms team's, and those of teams an observance names)."
          % (len(notices), len(officers), len(comms)))
    print("Entries by stage: %s." % "; ".join(
        "%s %d" % (words, counts[words]) for _, words in KINDS + ((None, "other"),)
        if words in counts))
    index = write_html(notices, a.html)

    first = a.states[0]
    look = [("each message as HTML, in a browser", "file://" + os.path.abspath(index))]
    look += [("as mail (apt-get install mutt)", "mutt -f %s/maildir" % st) for st in a.states]
    prog = "%s -c %s" % (a.tickler, a.config)
    look += [("the outbox, each notice's state", "%s --state-dir %s outbox" % (prog, first)),
             ("the progress report", "%s --state-dir %s report -o progress.html" % (prog, first)),
             ("what would go out next", "%s upcoming --from %s --days 31"
              % (prog, next_day(notices))),
             ("the diversity calendar, printable",
              "%s calendar --format html > calendar.html" % prog)]
    print("\nLook at them:")
    width = max(len(what) for what, _ in look) + 1
    for what_, cmd in look:
        print("  %-*s %s" % (width, what_ + ":", cmd))
    print("State directories (outbox, Maildir): %s" % " ".join(a.states))
    return 0


if __name__ == "__main__":
    sys.exit(main())
