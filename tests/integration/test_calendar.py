#!/usr/bin/env python3
"""Integration tests of the calendar source (plugins/calendar/) and of
`tickler calendar`: the shipped calendar expanded for 2025-2050 against
dates computed here (fixed dates and weekday rules) and by independent
libraries from Debian (scripts/calendar-dates.py: python3-dateutil,
python3-convertdate, python3-lunardate, python3-ephem), those checked in
turn against published tables; the warning of a date table that ends
within two years; malformed files, the exported
ICS read by an independent parser (python3-icalendar), the HTML page in
headless Chromium, and prompts and look-aheads sent by ticklerd."""
import argparse
import calendar
import datetime as dt
import email
import email.policy
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import Daemon, tool

ARGS = None
YEARS = range(2025, 2051)


def calendar_dates():
    """scripts/calendar-dates.py, the tables' computation, as a module."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                        "calendar-dates.py")
    spec = importlib.util.spec_from_file_location("calendar_dates", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DATES = calendar_dates()


def d(s):
    return dt.date.fromisoformat(s)


def nth_weekday(year, month, weekday, n):
    """The nth (1-based; -1 the last) weekday (Mon=0) of a month."""
    days = [dt.date(year, month, k) for k in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, k).weekday() == weekday]
    return days[n - 1] if n > 0 else days[n]


def yearly(month, day, length=1):
    return [(dt.date(y, month, day), dt.date(y, month, day) + dt.timedelta(length - 1))
            for y in YEARS]


def whole_month(month):
    return [(dt.date(y, month, 1), dt.date(y, month, calendar.monthrange(y, month)[1]))
            for y in YEARS]


def by_rule(fn, length=1):
    return [(fn(y), fn(y) + dt.timedelta(length - 1)) for y in YEARS]


def table(dates, length=1):
    return [(d(x), d(x) + dt.timedelta(length - 1)) for x in dates]


# Every event of etc/calendars/uk-diversity.ics, with its occurrences in
# 2025-2050 as (first day, last day). Fixed dates and weekday rules are
# the organisers' published definitions, computed here with Python's
# calendar module; the date tables of lunar and lunisolar observances are
# computed by the libraries scripts/calendar-dates.py names, not by tickler.
EXPECTED = {
    "holocaust-memorial-day": yearly(1, 27),
    "lgbt-history-month": whole_month(2),  # 29 days in 2028 and 2032
    "time-to-talk-day": by_rule(lambda y: nth_weekday(y, 2, 3, 1)),  # first Thursday
    "national-marriage-week": yearly(2, 7, 8),
    "world-day-of-social-justice": yearly(2, 20),
    "international-womens-day": yearly(3, 8),
    "elimination-of-racial-discrimination-day": yearly(3, 21),
    "trans-day-of-visibility": yearly(3, 31),
    "world-autism-acceptance-day": yearly(4, 2),
    "international-romani-day": yearly(4, 8),
    "vaisakhi": yearly(4, 14),
    "idahobit": yearly(5, 17),
    "world-day-for-cultural-diversity": yearly(5, 21),
    "pride-month": whole_month(6),
    "gypsy-roma-traveller-history-month": whole_month(6),
    # Monday to Sunday ending on Father's Day (third Sunday of June)
    "mens-health-week": by_rule(lambda y: nth_weekday(y, 6, 6, 3) - dt.timedelta(6), 7),
    "world-refugee-day": yearly(6, 20),
    "windrush-day": yearly(6, 22),
    "armed-forces-day": by_rule(lambda y: nth_weekday(y, 6, 5, -1)),  # last Saturday
    "disability-pride-month": whole_month(7),
    "srebrenica-memorial-day": yearly(7, 11),
    "international-non-binary-peoples-day": yearly(7, 14),
    "south-asian-heritage-month": yearly(7, 18, 31),  # 18 July - 17 August
    "international-youth-day": yearly(8, 12),
    "world-suicide-prevention-day": yearly(9, 10),
    "bi-visibility-day": yearly(9, 23),
    "international-day-of-sign-languages": yearly(9, 23),
    "macmillan-coffee-morning": by_rule(lambda y: nth_weekday(y, 9, 4, -1)),  # last Friday
    "black-history-month": whole_month(10),
    "international-day-of-older-persons": yearly(10, 1),
    "baby-loss-awareness-week": yearly(10, 9, 7),
    "world-mental-health-day": yearly(10, 10),
    "international-day-of-the-girl": yearly(10, 11),
    "national-coming-out-day": yearly(10, 11),
    "eradication-of-poverty-day": yearly(10, 17),
    "world-menopause-day": yearly(10, 18),
    "anti-slavery-day": yearly(10, 18),
    "remembrance-sunday": by_rule(lambda y: nth_weekday(y, 11, 6, 2)),  # second Sunday
    "inter-faith-week": by_rule(lambda y: nth_weekday(y, 11, 6, 2), 8),
    "armistice-day": yearly(11, 11),
    "transgender-awareness-week": yearly(11, 13, 7),
    "international-mens-day": yearly(11, 19),
    "trans-day-of-remembrance": yearly(11, 20),
    "white-ribbon-day": yearly(11, 25),
    "16-days-of-activism": yearly(11, 25, 16),  # 25 November - 10 December
    "world-aids-day": yearly(12, 1),
    "international-day-of-persons-with-disabilities": yearly(12, 3),
    "human-rights-day": yearly(12, 10),
    "christmas-day": yearly(12, 25),
}

# days each occurrence of a table's observance lasts
LENGTH = {"ramadan": 29, "ramadan-30": 30, "rosh-hashanah": 2, "hanukkah": 8, "passover": 8}
# tables the published ones cover together (Ramadan's months of 29 and 30 days)
PUBLISHED_AS = {"ramadan-30": "ramadan"}
for _uid in DATES.TABLES:
    EXPECTED[_uid] = [(x, x + dt.timedelta(LENGTH.get(_uid, 1) - 1)) for x in DATES.table(_uid)]

# Published first days, copied from the tables named beside them: the
# libraries' dates must agree with every one.
PUBLISHED = {
    # Hong Kong Observatory, Gregorian-Lunar Calendar Conversion Tables
    "lunar-new-year": ["2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13",
                       "2030-02-03", "2031-01-23", "2032-02-11", "2033-01-31", "2034-02-19",
                       "2035-02-08"],
    # Umm al-Qura calendar, 1 Ramadan 1446-1457 AH (two in 2030)
    "ramadan": ["2025-03-01", "2026-02-18", "2027-02-08", "2028-01-28", "2029-01-16",
                "2030-01-05", "2030-12-26", "2031-12-15", "2032-12-04", "2033-11-23",
                "2034-11-12", "2035-11-01"],
    # Umm al-Qura calendar, 1 Shawwal (two in 2033)
    "eid-al-fitr": ["2025-03-30", "2026-03-20", "2027-03-09", "2028-02-26", "2029-02-14",
                    "2030-02-04", "2031-01-24", "2032-01-14", "2033-01-02", "2033-12-23",
                    "2034-12-12", "2035-12-01"],
    # Umm al-Qura calendar, 10 Dhu al-Hijjah
    "eid-al-adha": ["2025-06-06", "2026-05-27", "2027-05-16", "2028-05-05", "2029-04-24",
                    "2030-04-13", "2031-04-02", "2032-03-22", "2033-03-11", "2034-03-01",
                    "2035-02-18"],
    # Government of Mauritius gazetted Divali public holidays
    "diwali": ["2025-10-20", "2026-11-08", "2027-10-29", "2028-10-17", "2029-11-05",
               "2030-10-26", "2031-11-14", "2032-11-02", "2033-10-22", "2034-11-10",
               "2035-10-30"],
    # India's gazetted holidays and the panchang dates the press printed:
    # Holi the day after Holika Dahan (2026: Holika Dahan in the night of
    # 2 March, Holi on 4 March; 2027: 21 and 22 March)
    "holi": ["2018-03-02", "2019-03-21", "2020-03-10", "2021-03-29", "2022-03-18",
             "2023-03-08", "2024-03-25", "2025-03-14", "2026-03-04", "2027-03-22"],
    # Buddha Purnima (Vesak) in India and Nepal
    "vesak": ["2018-04-30", "2019-05-18", "2020-05-07", "2021-05-26", "2022-05-16",
              "2023-05-05", "2024-05-23", "2025-05-12", "2026-05-01", "2027-05-20"],
    # Guru Nanak Jayanti (Kartik Purnima)
    "guru-nanak-gurpurab": ["2018-11-23", "2019-11-12", "2020-11-30", "2021-11-19",
                            "2022-11-08", "2023-11-27", "2024-11-15", "2025-11-05",
                            "2026-11-24", "2027-11-14"],
    # Hebcal (hebcal.com) Jewish holiday tables, diaspora
    "rosh-hashanah": ["2025-09-23", "2026-09-12", "2027-10-02", "2028-09-21", "2029-09-10",
                      "2030-09-28", "2031-09-18", "2032-09-06", "2033-09-24", "2034-09-14",
                      "2035-10-04"],
    "yom-kippur": ["2025-10-02", "2026-09-21", "2027-10-11", "2028-09-30", "2029-09-19",
                   "2030-10-07", "2031-09-27", "2032-09-15", "2033-10-03", "2034-09-23",
                   "2035-10-13"],
    "hanukkah": ["2025-12-15", "2026-12-05", "2027-12-25", "2028-12-13", "2029-12-02",
                 "2030-12-21", "2031-12-10", "2032-11-28", "2033-12-17", "2034-12-07",
                 "2035-12-26"],
    "passover": ["2025-04-13", "2026-04-02", "2027-04-22", "2028-04-11", "2029-03-31",
                 "2030-04-18", "2031-04-08", "2032-03-27", "2033-04-14", "2034-04-04",
                 "2035-04-24"],
    # Church of England, Book of Common Prayer table of Easter days
    "easter-sunday": ["2025-04-20", "2026-04-05", "2027-03-28", "2028-04-16", "2029-04-01",
                      "2030-04-21", "2031-04-13", "2032-03-28", "2033-04-17", "2034-04-09",
                      "2035-03-25"],
    # Orthodox paschalion (Greek Orthodox Archdiocese tables)
    "orthodox-easter": ["2025-04-20", "2026-04-12", "2027-05-02", "2028-04-16", "2029-04-08",
                        "2030-04-28", "2031-04-13", "2032-05-02", "2033-04-24", "2034-04-09",
                        "2035-04-29"],
}

CATEGORIES = {"age", "disability", "gender reassignment", "marriage and civil partnership",
              "pregnancy and maternity", "race", "religion or belief", "sex",
              "sexual orientation", "armed forces", "poverty"}


def run(*args, check=True, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
    return p


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickler-cal-")
        self.conf = harness.copy_sample(ARGS.source, self.tmp)
        self.cals = os.path.join(self.tmp, "calendars")
        self.state = os.path.join(self.tmp, "state")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tickler(self, *args, check=True):
        return run(tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                   *args, check=check)

    def observances(self, frm="2025-01-01", to="2035-12-31"):
        p = self.tickler("calendar", "--from", frm, "--to", to, "--format", "json")
        return json.loads(p.stdout)["observances"]


class ShippedCalendar(Fixture):
    def test_every_event_matches_its_dates_2025_to_2050(self):
        got = {}
        for o in self.observances(to="2050-12-31"):
            uid, _, day = o["id"].partition("/")
            self.assertEqual(day, o["first_day"])
            got.setdefault(uid.split("@")[0], []).append((d(o["first_day"]), d(o["last_day"])))
        self.assertGreaterEqual(len(got), 40)
        self.assertEqual(sorted(got), sorted(EXPECTED.keys() | {"wellbeing-week",
                                                                 "compassionate-community-awards"}))
        for uid, want in EXPECTED.items():
            with self.subTest(uid=uid):
                self.assertEqual(got[uid], want)

    def test_the_libraries_agree_with_the_published_tables(self):
        for uid, days in PUBLISHED.items():
            with self.subTest(uid=uid):
                # the rules are the tables' own, so they may be run on years
                # before the file's (2018-2024 for Holi, Vesak, Gurpurab)
                saved = DATES.FIRST
                DATES.FIRST = min(d(x).year for x in days)
                try:
                    computed = sorted(x for u in DATES.TABLES if PUBLISHED_AS.get(u, u) == uid
                                      for x in DATES.table(u))
                finally:
                    DATES.FIRST = saved
                first, last = d(days[0]), d(days[-1])
                self.assertEqual([x for x in computed if first <= x <= last],
                                 [d(x) for x in days])

    def test_umm_al_qura_stays_within_two_days_of_the_arithmetic_calendar(self):
        from convertdate import islamic
        for uid, month, day in (("ramadan", 9, 1), ("ramadan-30", 9, 1), ("eid-al-fitr", 10, 1),
                                ("eid-al-adha", 12, 10)):
            for x in DATES.table(uid):
                with self.subTest(uid=uid, day=x):
                    hy, hm, hd = islamic.from_gregorian(x.year, x.month, x.day)
                    near = dt.date(*islamic.to_gregorian(hy if hm >= month - 1 else hy - 1,
                                                         month, day))
                    self.assertLessEqual(abs((x - near).days), 2)

    def test_each_table_reaches_2050(self):
        for uid in DATES.TABLES:
            with self.subTest(uid=uid):
                self.assertGreaterEqual(EXPECTED[uid][-1][0].year, 2048)
                self.assertEqual(max(EXPECTED[u][-1][0].year for u in EXPECTED
                                     if PUBLISHED_AS.get(u, u) == PUBLISHED_AS.get(uid, uid)),
                                 2050)
                self.assertIn(PUBLISHED_AS.get(uid, uid), PUBLISHED)

    def test_leap_years_and_month_ends(self):
        got = {(o["id"]): (o["first_day"], o["last_day"]) for o in self.observances()}
        lgbt = "lgbt-history-month@uk-diversity.tickler/"
        self.assertEqual(got[lgbt + "2028-02-01"], ("2028-02-01", "2028-02-29"))
        self.assertEqual(got[lgbt + "2032-02-01"], ("2032-02-01", "2032-02-29"))
        self.assertEqual(got[lgbt + "2029-02-01"], ("2029-02-01", "2029-02-28"))
        sahm = "south-asian-heritage-month@uk-diversity.tickler/2030-07-18"
        self.assertEqual(got[sahm], ("2030-07-18", "2030-08-17"))
        ramadan = "ramadan@uk-diversity.tickler/2030-12-26"  # across the year end
        self.assertEqual(got[ramadan], ("2030-12-26", "2031-01-23"))

    def test_ramadan_ends_the_day_before_eid_al_fitr(self):
        """Every Ramadan, of 29 days or 30, runs to the eve of Eid al-Fitr:
        no day between them belongs to neither."""
        obs = self.observances(to="2050-12-31")
        eid = {d(o["first_day"]) for o in obs if o["id"].startswith("eid-al-fitr@")}
        ramadans = [o for o in obs if o["id"].split("@")[0] in ("ramadan", "ramadan-30")]
        self.assertEqual(len(ramadans), 27)  # 1446 to 1472 AH
        self.assertEqual(len({o["id"].split("@")[0] for o in ramadans}), 2)
        for o in ramadans:
            with self.subTest(ramadan=o["id"]):
                self.assertIn(d(o["last_day"]) + dt.timedelta(1), eid)
                self.assertEqual(o["title"], "Ramadan")

    def test_a_window_includes_an_observance_under_way(self):
        obs = self.observances("2027-10-15", "2027-10-20")
        ids = [o["id"] for o in obs]
        self.assertIn("black-history-month@uk-diversity.tickler/2027-10-01", ids)
        self.assertIn("world-menopause-day@uk-diversity.tickler/2027-10-18", ids)
        self.assertNotIn("armistice-day@uk-diversity.tickler/2027-11-11", ids)

    def test_each_event_has_a_category_description_and_dated_source(self):
        with open(os.path.join(ARGS.source, "etc", "calendars", "uk-diversity.ics"),
                  newline="") as f:
            text = f.read()
        import icalendar
        cal = icalendar.Calendar.from_ical(text)
        events = [c for c in cal.walk("VEVENT")]
        self.assertGreaterEqual(len(events), 40)
        for e in events:
            with self.subTest(uid=str(e["UID"])):
                self.assertIn(str(e["CATEGORIES"].cats[0]) if hasattr(e["CATEGORIES"], "cats")
                              else str(e["CATEGORIES"]), CATEGORIES)
                self.assertTrue(str(e["DESCRIPTION"]).strip())
                self.assertTrue(str(e["COMMENT"]).startswith("Dates: "))
                if "RDATE" in e:  # a date table names its source
                    self.assertRegex(str(e["COMMENT"]), r"[A-Z][a-z]+")


class TableEnds(Fixture):
    """A table of dates (RDATE) runs out: tickler check says so two years
    ahead, naming the observance, the file, its line and the last date."""

    def test_check_warns_of_a_table_ending_within_two_years(self):
        today = dt.date.today()
        soon = today.replace(year=today.year + 1, day=1)
        later = today.replace(year=today.year + 3, day=1)
        gone = today.replace(year=today.year - 1, day=1)
        path = os.path.join(self.cals, "local.ics")

        def event(uid, start, lines):
            return ("BEGIN:VEVENT\r\nUID:%s@test\r\nDTSTAMP:20260101T000000Z\r\n"
                    "SUMMARY:%s\r\nDTSTART;VALUE=DATE:%s\r\n%sEND:VEVENT\r\n"
                    % (uid, uid.capitalize(), start.strftime("%Y%m%d"), lines))
        rd = lambda *days: "RDATE;VALUE=DATE:%s\r\n" % ",".join(x.strftime("%Y%m%d")
                                                                 for x in days)
        with open(path, "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                    + event("soon", gone, rd(soon, today))      # line 4
                    + event("later", gone, rd(later))
                    + event("gone", gone, rd(gone - dt.timedelta(days=400)))  # line 18
                    + event("yearly", gone, "RRULE:FREQ=YEARLY\r\n")
                    # "Later" kept as two tables (as Ramadan's months of 29
                    # days and of 30): the one that ends soon is not its end
                    + event("later", gone, rd(soon)).replace("UID:later@", "UID:later-part@")
                    + "END:VCALENDAR\r\n")
        p = self.tickler("check")
        self.assertIn('%s:4: "Soon" (soon@test): its dates (RDATE) end on %s, within two '
                      'years of today' % (path, soon.isoformat()), p.stderr)
        self.assertIn('%s:18: "Gone" (gone@test): its dates (RDATE) ended on %s; it is no '
                      'longer prompted' % (path, gone.isoformat()), p.stderr)
        self.assertNotIn("Later", p.stderr)
        self.assertNotIn("Yearly", p.stderr)
        # the shipped calendar's tables reach 2050: no warning of its own
        self.assertNotIn("uk-diversity.ics", p.stderr)
        self.assertIn("ok:", p.stdout)


    def test_check_warns_of_what_an_observance_does_not_keep(self):
        """A time of day, a second category and a LOCATION are not kept by
        an observance: tickler check says so once a kind, counting the
        events and naming the first at its line; the shipped calendar has
        none of them."""
        path = os.path.join(self.cals, "local.ics")

        def event(uid, *lines):
            return ("BEGIN:VEVENT\r\nUID:%s@test\r\nDTSTAMP:20260101T000000Z\r\n"
                    "SUMMARY:%s\r\n" % (uid, uid.capitalize())
                    + "".join(x + "\r\n" for x in lines) + "END:VEVENT\r\n")
        with open(path, "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                    + event("plain", "DTSTART;VALUE=DATE:20270301", "CATEGORIES:Religion")
                    + event("talk", "DTSTART;TZID=Europe/London:20270310T180000",  # line 11
                            "LOCATION:Town Hall", "CATEGORIES:Race,Culture")
                    + event("lecture", "DTSTART:20270311T120000Z", "LOCATION:Library",
                            "CATEGORIES:Disability", "CATEGORIES:Culture")
                    + event("trailing", "DTSTART;VALUE=DATE:20270312", "CATEGORIES:Sex,")
                    + "END:VCALENDAR\r\n")
        p = self.tickler("check")
        self.assertIn('%s:11: 2 events with a time of day (the first here, "Talk"): '
                      "observances are prompted and published by the day, so the feeds show "
                      "them as all-day events" % path, p.stderr)
        self.assertIn('%s:11: 2 events with more than one category (the first here, "Talk"): '
                      "only the first is kept" % path, p.stderr)
        self.assertIn('%s:11: 2 events with a LOCATION (the first here, "Talk"): tickler '
                      "neither prompts nor publishes it" % path, p.stderr)
        self.assertNotIn("Plain", p.stderr)
        self.assertNotIn("Trailing", p.stderr)
        self.assertNotIn("uk-diversity.ics", p.stderr)
        self.assertIn("ok:", p.stdout)

class Malformed(Fixture):
    BAD = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
           "BEGIN:VEVENT\r\nUID:ok@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Fine\r\n"
           "DTSTART;VALUE=DATE:20270301\r\nEND:VEVENT\r\n"
           "BEGIN:VEVENT\r\nUID:bad@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Broken\r\n"
           "DTSTART;VALUE=DATE:20271345\r\n"          # line 14: no such month
           "RRULE:FREQ=SOMETIMES\r\n"                  # line 15: not a rule
           "END:VEVENT\r\nEND:VCALENDAR\r\n")

    def write_bad(self, text=None):
        path = os.path.join(self.cals, "local.ics")
        with open(path, "w", newline="") as f:
            f.write(text or self.BAD)
        return path

    def test_check_config_names_file_line_and_reason(self):
        path = self.write_bad()
        p = run(tool("ticklerd"), "--check-config", "-c", self.conf, "-p", harness.plugin_dir(),
                check=False)
        # ticklerd starts without the file's events, so its check (the unit's
        # ExecStartPre) passes, saying so; tickler check fails (below)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("errors logged above, which ticklerd starts with", p.stdout)
        self.assertIn('%s:14: DTSTART: "20271345" is not a valid date' % path, p.stderr)
        self.assertIn("%s:15: Can't parse as RECUR value in RRULE property" % path, p.stderr)
        self.assertIn("its events are not loaded", p.stderr)
        p = self.tickler("check", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('%s:14: DTSTART: "20271345" is not a valid date' % path,
                      p.stdout + p.stderr)

    def test_each_problem_counts_once(self):
        """A refused file's problem is one error; the line saying the file
        was refused follows it, a warning, not a second error."""
        base = Path(self.conf).read_text()
        with open(self.conf, "w") as f:
            f.write(base.replace('files = [ "calendars/uk-diversity.ics", "calendars/local.ics" ];',
                                 'files = [ "calendars/uk-diversity.ics", "calendars/local.ics", '
                                 '"calendars/missing.ics" ];'))
        path = self.write_bad(self.BAD.replace("20271345", "20270230").replace(
            "RRULE:FREQ=SOMETIMES\r\n", ""))
        missing = os.path.join(self.cals, "missing.ics")
        p = self.tickler("check", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("errors: 2\n", p.stdout)
        lines = p.stderr.splitlines()
        for at, problem in ((path, '%s:14: DTSTART: "20270230" is not a valid date' % path),
                            (missing, "%s: cannot open" % missing)):
            i = [k for k, l in enumerate(lines) if problem in l]
            self.assertEqual(len(i), 1, p.stderr)
            self.assertTrue(lines[i[0]].startswith("<3>"), p.stderr)
            self.assertEqual(lines[i[0] + 1], "<4>diversity: %s: calendar refused (1 problem); "
                             "its events are not loaded" % at, p.stderr)
        p = run(tool("ticklerd"), "--check-config", "-c", self.conf, "-p", harness.plugin_dir(),
                check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("; 2 errors logged above, which ticklerd starts with", p.stdout)

    def test_the_other_calendar_still_loads(self):
        self.write_bad()
        p = self.tickler("calendar", "--from", "2027-01-01", "--to", "2027-12-31",
                         "--format", "json", check=False)
        self.assertEqual(p.returncode, 1)  # a file was refused: said in the exit code
        ids = [o["id"] for o in json.loads(p.stdout)["observances"]]
        self.assertIn("black-history-month@uk-diversity.tickler/2027-10-01", ids)
        self.assertFalse([i for i in ids if "@test" in i])  # the bad file, whole

    def test_structure_problems(self):
        cases = {
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n":
                (4, "END:VCALENDAR does not close BEGIN:VEVENT of line 2"),
            "BEGIN:VCALENDAR\r\nthis is not a property\r\nEND:VCALENDAR\r\n":
                (2, "expected ':' between the property name and its value"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART;VALUE=DATE:20270101\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (2, "the event has no UID"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nDTEND;VALUE=DATE:20270101\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "DTEND is not after DTSTART"),
            "hello\r\n": (1, "expected BEGIN:VCALENDAR as the first line"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nDURATION:-P2D\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "DURATION: \"-P2D\" is not a positive"),
            # past 2^31 seconds: libical's int would wrap (or overflow)
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nDURATION:P24855D\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n":
                (6, "DURATION: \"P24855D\" lasts 24855 days; at most 366 are allowed"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nDURATION:P710000W\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n":
                (6, "DURATION: \"P710000W\" lasts 4970000 days"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nRECURRENCE-ID;VALUE=DATE:20280105\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "RECURRENCE-ID (a changed occurrence)"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\n"
            "SUMMARY:y\r\nDTSTART;VALUE=DATE:20270106\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n":
                (7, "UID a is used again (first at line 2)"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nRRULE:FREQ=HOURLY\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "RRULE: \"FREQ=HOURLY\" repeats within a day"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nEXDATE;VALUE=DATE:20270230\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "EXDATE: \"20270230\" is not a valid date"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n END:VCALENDAR\r\n":
                (2, "BEGIN:VEVENT is never closed"),
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n":
                (3, "a second VCALENDAR"),
            "BEGIN:VCALENDAR\r\nX-A;P=\"unclosed:1\r\nEND:VCALENDAR\r\n":
                (2, "a quoted parameter value is not closed"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:x\r\n"
            "DTSTART;VALUE=DATE:20270105\r\nRDATE;VALUE=PERIOD:20270101T000000Z/P1D\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n": (6, "RDATE: periods are not supported"),
        }
        for text, (line, why) in cases.items():
            with self.subTest(why=why):
                path = self.write_bad(text)
                p = run(tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                        harness.plugin_dir(), check=False)
                self.assertEqual(p.returncode, 0)
                self.assertIn("logged above, which ticklerd starts with", p.stdout)
                self.assertIn("%s:%d: %s" % (path, line, why), p.stderr)

    def test_settings_are_checked(self):
        base = Path(self.conf).read_text()
        for settings, why, status in (
                ('files = [ "calendars/uk-diversity.ics" ]; colour = "red";',
                 'unknown setting "colour"', 1),
                ('', "files must be a list of .ics files or directories", 1),
                # a file that cannot be read: ticklerd starts without it
                ('files = [ "calendars/missing.ics" ];', "missing.ics: cannot open", 0),
        ):
            with self.subTest(why=why):
                with open(self.conf, "w") as f:
                    f.write(base.replace('files = [ "calendars/uk-diversity.ics", '
                                         '"calendars/local.ics" ];', settings))
                p = run(tool("ticklerd"), "--check-config", "-c", self.conf, "-p",
                        harness.plugin_dir(), check=False)
                self.assertEqual(p.returncode, status, p.stdout + p.stderr)
                self.assertIn(why, p.stderr)
                p = self.tickler("check", check=False)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)

    def test_a_directory_loads_every_ics_file_in_it_and_exdate_excludes(self):
        base = Path(self.conf).read_text()
        with open(self.conf, "w") as f:
            f.write(base.replace('files = [ "calendars/uk-diversity.ics", "calendars/local.ics" ];',
                                 'files = [ "calendars" ];'))
        with open(os.path.join(self.cals, "extra.ics"), "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
                    "UID:fair@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Borough fair\r\n"
                    "DTSTART;VALUE=DATE:20270703\r\nRRULE:FREQ=YEARLY;BYMONTH=7;BYDAY=1SA\r\n"
                    "EXDATE;VALUE=DATE:20280701\r\nRDATE;VALUE=DATE:20280708\r\n"
                    "X-TICKLER-TEAMS:Museums, no such team\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        with open(os.path.join(self.cals, "notes.txt"), "w") as f:
            f.write("not a calendar")
        days = {o["id"].split("@")[0] + o["first_day"] for o in self.observances("2027-01-01",
                                                                                 "2029-12-31")}
        self.assertIn("black-history-month2027-10-01", days)  # uk-diversity.ics
        self.assertIn("wellbeing-week2028-05-08", days)  # local.ics
        # first Saturday of July, but 1 July 2028 excluded and 8 July added
        fair = sorted(d[len("fair"):] for d in days if d.startswith("fair"))
        self.assertEqual(fair, ["2027-07-03", "2028-07-08", "2029-07-07"])
        # a team name that matches no team is a warning naming the event, at
        # its file and line (of BEGIN:VEVENT), as the source's other problems
        chk = self.tickler("check", check=False)
        self.assertIn('%s:4: warning: [X-TICKLER-TEAMS] Borough fair (fair@test/'
                      % os.path.join(self.cals, "extra.ics"), chk.stdout)
        self.assertIn('"no such team" is not a team in the team directory', chk.stdout)

    def test_a_date_time_falls_on_its_day_in_the_daemon_zone(self):
        """Outlook and Google export timed events: each is on the day it is
        in daemon.timezone (Europe/London), whatever zone it was written in."""
        def ev(uid, *lines):
            return ("BEGIN:VEVENT\r\nUID:%s@test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:%s\r\n"
                    % (uid, uid) + "".join(l + "\r\n" for l in lines) + "END:VEVENT\r\n")
        eastern = ("BEGIN:VTIMEZONE\r\nTZID:Eastern Standard Time\r\n"
                   "BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\n"
                   "TZOFFSETTO:-0500\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n"
                   "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\n"
                   "TZOFFSETTO:-0400\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
                   "END:VTIMEZONE\r\n")
        path = self.write_bad(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + eastern
            + ev("utc-bst", "DTSTART:20260601T233000Z")  # 00:30 on 2 June in London
            + ev("utc-gmt", "DTSTART:20261201T233000Z")  # 23:30 on 1 December
            + ev("evening", "DTSTART;TZID=Europe/London:20260610T180000",
                 "DTEND;TZID=Europe/London:20260610T213000")
            + ev("across", "DTSTART:20260611T230000Z", "DTEND:20260612T010000Z")
            + ev("outlook", "DTSTART;TZID=Eastern Standard Time:20260614T220000")
            + ev("olson", "DTSTART;TZID=America/New_York:20260615T220000")
            + ev("floating", "DTSTART:20260616T233000")
            # Evolution writes libical's own prefix
            + ev("evolution", "DTSTART;TZID=/freeassociation.sourceforge.net/Europe/London:"
                 "20260625T120000")
            # three hours from 23:00 end on the next day, as a DTEND would
            + ev("late-show", "DTSTART;TZID=Europe/London:20260620T230000", "DURATION:PT3H")
            # a rule repeats where it was written: its clock changes,
            # its weekdays and its UNTIL are that zone's
            + ev("monthly", "DTSTART:20260501T233000Z", "RRULE:FREQ=MONTHLY;COUNT=8")
            + ev("until", "DTSTART:20260501T233000Z", "RRULE:FREQ=MONTHLY;UNTIL=20260601T233000Z")
            # an UNTIL date includes its day
            + ev("until-date", "DTSTART;TZID=Europe/London:20260105T090000",
                 "RRULE:FREQ=WEEKLY;UNTIL=20260126")
            + ev("mondays-ny", "DTSTART;TZID=America/New_York:20260105T200000",
                 "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
                 "EXDATE;TZID=America/New_York:20260112T200000")
            + "END:VCALENDAR\r\n")
        days = {}
        for o in self.observances("2026-01-01", "2026-12-31"):
            if "@test" in o["id"]:
                days.setdefault(o["id"].split("@")[0], []).append((o["first_day"], o["last_day"]))
        one = lambda d: [(d, d)]
        self.assertEqual(days, {
            "utc-bst": one("2026-06-02"),
            "utc-gmt": one("2026-12-01"),
            "evening": one("2026-06-10"),
            "across": one("2026-06-12"),  # 00:00 to 02:00 in London
            "outlook": one("2026-06-15"),  # 03:00 in London
            "olson": one("2026-06-16"),
            "floating": one("2026-06-16"),  # as written
            "evolution": one("2026-06-25"),
            "late-show": [("2026-06-20", "2026-06-21")],
            # 00:30 on the 2nd in summer time, 23:30 on the 1st in winter
            "monthly": [("2026-%s" % d, "2026-%s" % d) for d in (
                "05-02", "06-02", "07-02", "08-02", "09-02", "10-02", "11-01", "12-01")],
            "until": one("2026-05-02") + one("2026-06-02"),
            "until-date": [("2026-01-%s" % d, "2026-01-%s" % d) for d in ("05", "12", "19", "26")],
            # 01:00 on Tuesdays in London; the second one excluded
            "mondays-ny": one("2026-01-06") + one("2026-01-20"),
        })
        # a TZID that names no zone is a problem at its line
        text = Path(path).read_text().replace("TZID=America/New_York", "TZID=Mars/Olympus")
        Path(path).write_text(text)
        line = [i for i, t in enumerate(text.splitlines(), 1) if "Mars/Olympus" in t][0]
        p = self.tickler("check", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('%s:%d: DTSTART: TZID "Mars/Olympus" is neither a VTIMEZONE of this file '
                      'nor a known zone' % (path, line), p.stdout + p.stderr)

    def test_text_that_is_not_utf8_names_its_line(self):
        path = os.path.join(self.cals, "local.ics")
        with open(path, "wb") as f:
            f.write(b"BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\nEND:VCALENDAR\r\n")
        p = self.tickler("check", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s:2: the text is not valid UTF-8" % path, p.stderr)
        # what only looks like UTF-8: a surrogate (CESU-8), an overlong
        # '/', a code point past U+10FFFF, each named by its line
        for bad in (b"\xed\xa0\x80", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80"):
            with open(path, "wb") as f:
                f.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:x" + bad
                        + b"\r\nEND:VCALENDAR\r\n")
            p = self.tickler("check", check=False)
            self.assertEqual(p.returncode, 1, bad)
            self.assertIn("%s:3: the text is not valid UTF-8" % path, p.stderr, bad)

    def test_daemon_keeps_the_last_good_calendar(self):
        daemon = Daemon(self.conf, self.state, "--now", "2027-09-01T08:00")
        try:
            daemon.wait_for("started:")
            self.assertIn("2 events", daemon.log())
            path = os.path.join(self.cals, "local.ics")
            with open(path, newline="") as f:
                good = f.read()
            # a valid edit is read and rescheduled
            with open(path, "w", newline="") as f:
                f.write(good.replace("SUMMARY:Staff Wellbeing Week", "SUMMARY:Wellbeing Week"))
            n = daemon.wait_for("source \"diversity\" changed; rescheduling")
            # a broken edit is refused; the daemon goes on with the last good text
            self.write_bad("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")
            daemon.wait_for("its last good version stays in use", after=n)
            self.assertIsNone(daemon.proc.poll())
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log())


class Export(Fixture):
    HOSTILE = "Comma, semi; back\\slash \"quote\" <b>bold</b> & ünïcödé " + "long " * 40

    def add_hostile_event(self):
        with open(os.path.join(self.cals, "local.ics"), "w", newline="") as f:
            desc = self.HOSTILE.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                    "BEGIN:VEVENT\r\nUID:hostile@test\r\nDTSTAMP:20260101T000000Z\r\n"
                    "SUMMARY:<script>alert(1)</script> Day\r\nDTSTART;VALUE=DATE:20270315\r\n"
                    "CATEGORIES:wellbeing\r\nDESCRIPTION:%s\\nsecond line\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n" % desc)

    def test_ics_parses_with_python_icalendar(self):
        import icalendar
        self.add_hostile_event()
        raw = subprocess.run([tool("tickler"), "-c", self.conf, "--plugin-dir",
                              harness.plugin_dir(), "calendar", "--from", "2027-01-01", "--to",
                              "2027-12-31"], capture_output=True, check=True, timeout=60).stdout
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 75)
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        cal = icalendar.Calendar.from_ical(raw)
        events = list(cal.walk("VEVENT"))
        obs = self.observances("2027-01-01", "2027-12-31")
        self.assertEqual(len(events), len(obs))
        self.assertEqual(str(cal["VERSION"]), "2.0")
        seen = set()
        for e in events:
            uid = str(e["UID"])
            self.assertNotIn(uid, seen)
            seen.add(uid)
            self.assertIn("DTSTAMP", e)
            start, end = e["DTSTART"].dt, e["DTEND"].dt
            self.assertIsInstance(start, dt.date)
            self.assertNotIsInstance(start, dt.datetime)  # all-day
            self.assertGreater(end, start)
        bhm = [e for e in events if str(e["UID"]).startswith("black-history-month")][0]
        self.assertEqual((bhm["DTSTART"].dt, bhm["DTEND"].dt), (d("2027-10-01"), d("2027-11-01")))
        hostile = [e for e in events if str(e["UID"]) == "hostile@test/2027-03-15"][0]
        self.assertEqual(str(hostile["DESCRIPTION"]), self.HOSTILE + "\nsecond line")
        self.assertEqual(str(hostile["SUMMARY"]), "<script>alert(1)</script> Day")

    def test_a_category_no_observance_has_is_an_empty_calendar_said_on_stderr(self):
        """A mistyped category exports an empty calendar (a script's
        export of a quiet period must not fail) and says so, naming the
        categories; a category of the Equality Act with none in the
        period is empty without a word."""
        self.add_hostile_event()
        args = [tool("tickler"), "-c", self.conf, "--plugin-dir", harness.plugin_dir(),
                "calendar", "--from", "2027-01-01", "--to", "2027-12-31", "--category"]
        p = subprocess.run(args + ["disabilty"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("BEGIN:VEVENT", p.stdout)
        self.assertIn('no observance from 2027-01-01 to 2027-12-31 has the category "disabilty"',
                      p.stderr)
        self.assertIn(" disability, ", p.stderr)
        self.assertTrue(p.stderr.rstrip().endswith(", wellbeing"), p.stderr)  # local, once
        self.assertEqual(p.stderr.count("wellbeing"), 1)
        p = subprocess.run(args + ["wellbeing"], capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout.count("BEGIN:VEVENT")), (0, 1), p.stderr)
        self.assertNotIn("no observance", p.stderr)
        p = subprocess.run(args[:-5] + ["--from", "2027-04-01", "--to", "2027-04-30",
                                        "--category", "marriage-and-civil-partnership"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout.count("BEGIN:VEVENT")), (0, 0), p.stderr)
        self.assertNotIn("no observance", p.stderr)

    def test_html_in_headless_chromium(self):
        self.add_hostile_event()
        p = self.tickler("calendar", "--from", "2027-01-01", "--to", "2027-12-31",
                         "--format", "html")
        page = os.path.join(self.tmp, "calendar.html")
        with open(page, "w") as f:
            f.write(p.stdout)
        self.assertNotIn("<script>alert", p.stdout)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Day", p.stdout)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        self.assertTrue(chromium, "chromium is not installed (scripts/deps installs it)")
        common = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                  "--user-data-dir=" + os.path.join(self.tmp, "profile")]
        dom = run(*common, "--dump-dom", "file://" + page).stdout
        self.assertEqual(dom.count("<section>"), 12)
        for month in ("January 2027", "October 2027", "December 2027"):
            self.assertIn("<h2>%s</h2>" % month, dom)
        legend = dom[dom.index('class="legend"'):dom.index("</ul>")]
        for cat in ("race", "disability", "sexual orientation", "religion or belief"):
            self.assertIn(">%s</span>" % cat, legend)
        self.assertIn("other (the council", legend)  # the hostile event's own category
        shot = os.path.join(ARGS.build, "tests", "calendar-2027.png")
        os.makedirs(os.path.dirname(shot), exist_ok=True)
        if os.path.exists(shot):
            os.unlink(shot)
        run(*common, "--screenshot=" + shot, "--window-size=1200,2400", "file://" + page)
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20000)  # a rendered page, not a blank one
        print("\nscreenshot of the HTML calendar: %s (%d bytes)" % (shot, len(png)))


class Prompts(Fixture):
    def upcoming(self, frm, days):
        p = self.tickler("upcoming", "--from", frm, "--days", str(days), "--json")
        return [u for u in json.loads(p.stdout) if "@" in u["item"]]

    def test_prompt_ladders_on_working_days(self):
        got = {}
        for u in self.upcoming("2027-08-16", 70):
            at, teams = got.setdefault((u["item"].split("@")[0], u["stage"]), (u["at"], []))
            self.assertEqual(at, u["at"])  # every team at the same instant
            teams.append(u["team"])
            teams.sort()
        # Black History Month 2027 begins Friday 1 October: 6 and 2 weeks before
        self.assertEqual(got[("black-history-month", "prompt-42")],
                         ("2027-08-20T09:00:00+01:00", ["comms", "hr", "museums"]))
        self.assertEqual(got[("black-history-month", "prompt-14")][0],
                         "2027-09-17T09:00:00+01:00")
        # Rosh Hashanah (2 days) on Saturday 2 October: 42 days before is a
        # Saturday, so the prompt moves to Friday
        self.assertEqual(got[("rosh-hashanah", "prompt-42")][0], "2027-08-20T09:00:00+01:00")
        # World Menopause Day, Monday 18 October: 14 and 2 days before; the
        # second falls on Saturday 16th, so Friday 15th
        self.assertEqual(got[("world-menopause-day", "prompt-14")],
                         ("2027-10-04T09:00:00+01:00", ["comms", "hr"]))
        self.assertEqual(got[("world-menopause-day", "prompt-2")][0], "2027-10-15T09:00:00+01:00")
        # the look-ahead: first working day of September lists September and October
        self.assertEqual(got[("world-menopause-day", "lookahead-2027-09")][0],
                         "2027-09-01T09:00:00+01:00")

    def test_a_source_s_own_prompt_days(self):
        """The council's own calendar, a source of its own, asks six weeks'
        notice (prompt_days = [ 42, 14 ]): `tickler upcoming` shows its
        awards prompted then, and the shipped calendar's observances as the
        schedule says."""
        with open(self.conf) as f:
            text = f.read()
        both = 'files = [ "calendars/uk-diversity.ics", "calendars/local.ics" ];\n    };\n  }'
        self.assertIn(both, text)
        with open(self.conf, "w") as f:
            f.write(text.replace(both, 'files = [ "calendars/uk-diversity.ics" ]; }; },\n'
                                 '  { name = "council"; plugin = "calendar"; team = "comms";\n'
                                 '    prompt_days = [ 42, 14 ];\n'
                                 '    settings = { files = [ "calendars/local.ics" ]; }; }'))
        self.tickler("check")
        got = {}
        for u in self.upcoming("2027-08-16", 70):
            got.setdefault(u["item"].split("@")[0], set()).add((u["stage"], u["at"][:10]))
        # the awards, Thursday 21 October 2027 (to each of its teams): 42
        # and 14 days before
        self.assertEqual(got["compassionate-community-awards"],
                         {("lookahead-2027-09", "2027-09-01"), ("prompt-42", "2027-09-09"),
                          ("lookahead-2027-10", "2027-10-01"), ("prompt-14", "2027-10-07")})
        # World Menopause Day, Monday 18 October, keeps the schedule's 14 and 2
        self.assertIn(("prompt-14", "2027-10-04"), got["world-menopause-day"])
        self.assertIn(("prompt-2", "2027-10-15"), got["world-menopause-day"])
        self.assertNotIn("prompt-42", [s for s, _ in got["world-menopause-day"]])
        # a bad lead time is refused at its line, naming why
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(text.replace("prompt_days = [ 42, 14 ];", "prompt_days = [ 42, 400 ];"))
        p = self.tickler("check", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout + p.stderr,
                         r"tickler\.conf:\d+: .*lead times are whole numbers of days from 0 to 366")

    def test_daemon_sends_prompts_and_the_look_ahead(self):
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2027-09-01T09:30", "--oneshot")
        msgs = []
        new = os.path.join(self.state, "maildir", "new")
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                msgs.append(email.message_from_binary_file(f, policy=email.policy.strict))
        comms = [m for m in msgs if "comms@" in m["To"]]
        self.assertEqual(len(comms), 1)
        m = comms[0]
        self.assertRegex(str(m["Subject"]), r"^Diversity calendar: \d+ observances coming up$")
        body = m.get_body(("plain",)).get_content()
        self.assertIn("\nDiversity calendar: coming up\n", body)
        self.assertIn("Black History Month\n    When: 1\u201331 October 2027, begins in 30 days",
                      body)
        self.assertIn("Category: race", body)
        self.assertIn("Diwali", body)  # 29 October 2027
        self.assertNotIn("Armistice Day", body)  # November: not in this look-ahead
        self.assertNotIn("Rosh Hashanah\n    When: 2\u20133 October 2027, begins in 31 days\n"
                         "    Category: race", body)
        # a second run the same day sends nothing again
        before = len(os.listdir(new))
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2027-09-01T09:45", "--oneshot")
        self.assertEqual(len(os.listdir(new)), before)


    def test_a_look_ahead_with_an_observance_under_way_says_so(self):
        """The look-ahead of 1 September 2027 lists an observance begun in
        August beside those coming up: its subject and heading say both,
        and only what is coming up is called so."""
        with open(os.path.join(self.cals, "local.ics"), "w", newline="") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                    "BEGIN:VEVENT\r\nUID:festival@test\r\nDTSTAMP:20260101T000000Z\r\n"
                    "SUMMARY:Summer Festival\r\nDTSTART;VALUE=DATE:20270820\r\n"
                    "DURATION:P20D\r\nCATEGORIES:race\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2027-09-01T09:30", "--oneshot")
        new = os.path.join(self.state, "maildir", "new")
        comms = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.strict)
            if "comms@" in m["To"]:
                comms.append(m)
        self.assertEqual(len(comms), 1)
        self.assertRegex(str(comms[0]["Subject"]),
                         r"^Diversity calendar: \d+ observances coming up, 1 under way$")
        body = comms[0].get_body(("plain",)).get_content()
        self.assertIn("\nDiversity calendar: coming up or under way\n", body)
        self.assertIn("Summer Festival\n    When: 20 August \u2013 8 September 2027, under way, "
                      "began 12 days ago", body)

    def test_the_look_ahead_by_email_names_the_calendar_by_its_title(self):
        """The council names its calendar (calendar.title): the look-ahead
        of 1 September 2027, sent through a real SMTP server, carries that
        name in its subject, exactly as written, and in its heading, as
        text and escaped in the HTML."""
        title = "Maidstone equality & diversity dates \u2013 <2027>"
        smtp = harness.SmtpSink()
        self.addCleanup(smtp.stop)
        with open(self.conf) as f:
            text = f.read()
        maildir = ('    plugin = "maildir";\n    settings = {\n'
                   '      path = "maildir";                            '
                   '# relative to the state directory\n')
        self.assertIn(maildir, text)
        text = text.replace(maildir, '    plugin = "email";\n    settings = {\n'
                            '      url = "smtp://127.0.0.1:%d"; tls = "none";\n' % smtp.port)
        with open(self.conf, "w") as f:
            f.write(text + '\ncalendar = { title = "%s"; };\n' % title)
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2027-09-01T09:30", "--oneshot")
        comms = [email.message_from_bytes(raw, policy=email.policy.strict)
                 for rcpts, raw in smtp.received() if any("comms@" in r for r in rcpts)]
        self.assertEqual(len(comms), 1)
        self.assertRegex(str(comms[0]["Subject"]),
                         r"^Maidstone equality & diversity dates \u2013 <2027>: \d+ observances "
                         r"coming up$")
        body = comms[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = comms[0].get_body(("html",)).get_content()
        self.assertIn("\n%s: coming up\n" % title, body)
        self.assertIn(">Maidstone equality &amp; diversity dates \u2013 &lt;2027&gt;: coming up"
                      "</h2>", html)
        self.assertNotIn("iversity calendar", body + html)

    def test_the_webhook_names_the_calendar_by_its_title(self):
        """The comms team's look-ahead by the signed webhook, to a real
        HTTP server: its JSON names the calendar by calendar.title, as
        written, beside its observances."""
        title = "Maidstone equality & diversity dates \u2013 \"2027\""
        bodies = []

        class Sink(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        with open(os.path.join(self.tmp, "comms.url"), "w") as f:
            f.write("http://127.0.0.1:%d/comms\n" % server.server_address[1])
        with open(self.conf, encoding="utf-8") as f:
            text = f.read()
        comms = '    recipients = { email = [ "comms@maidstone.example" ]; }; },'
        self.assertIn(comms, text)
        text = text.replace(comms, '    recipients = { email = [ "comms@maidstone.example" ]; '
                                   'hook = [ "comms" ]; }; },')
        text = text.replace("notifiers = (\n", 'notifiers = (\n  { name = "hook"; plugin = '
                            '"webhook"; settings = { destinations = ( { name = "comms"; '
                            'url_file = "comms.url"; } ); }; },\n', 1)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(text + '\ncalendar = { title = "%s"; };\n' % title.replace('"', '\\"'))
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2027-09-01T09:30", "--oneshot")
        self.assertEqual(len(bodies), 1)
        body = json.loads(bodies[0])
        self.assertEqual(body["calendar"], title)
        self.assertEqual(body["recipient"], "comms")
        self.assertTrue(body["entries"])
        self.assertEqual({e["kind"] for e in body["entries"]}, {"event"})
        self.assertEqual({e["stage"] for e in body["entries"]}, {"look-ahead"})

    def test_a_late_prompt_for_an_observance_that_has_ended_is_not_sent(self):
        """A first start on Friday 12 September 2025 catches up the prompt
        of World Suicide Prevention Day (one day, Wednesday 10th) due on
        Monday 8th: the day is over, so nothing prompts for it, and the
        log says why."""
        p = run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
                self.state, "--now", "2025-09-12T09:00", "--oneshot", "--log-level", "info")
        self.assertIn("comms prompt not sent: World Suicide Prevention Day ended on 2025-09-10, "
                      "before this late prompt; team=comms stage=prompt-2", p.stderr)
        new = os.path.join(self.state, "maildir", "new")
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.strict)
            self.assertNotIn("World Suicide Prevention Day", m.get_body(("plain",)).get_content())

    def test_a_prompt_the_wait_for_the_sending_hours_would_make_late_goes_at_once(self):
        """Started on the evening of World Suicide Prevention Day (one day,
        Wednesday 10 September 2025), outside the sending hours, with its
        prompt of Monday 8th missed: kept for Thursday's send time, the day
        would be over and the prompt dropped, so the catch-up goes now."""
        d = Daemon(self.conf, self.state, "--now", "2025-09-10T20:00")
        self.addCleanup(lambda: d.proc.poll() is None and d.kill())
        # since a week before the start: the second its load began, or the
        # one before, while its clock (set once the configuration is read)
        # says 20:00:00
        n = d.wait_for("outside the sending hours (schedule.catch_up_until), but what was "
                       "missed while stopped, since 2025-09-03T")
        point = dt.datetime.fromisoformat(d.lines[n].split(" since ", 1)[1].split(",", 1)[0])
        week = dt.datetime.fromisoformat("2025-09-03T20:00:00+01:00")
        self.assertTrue(week - dt.timedelta(seconds=30) <= point <= week, d.lines[n])
        self.assertTrue(d.lines[n].endswith(
            "+01:00, holds a comms prompt or an update request whose time would be over by the "
            "next send time, 2025-09-11T09:00:00+01:00: it all goes now"), d.lines[n])
        d.wait_for(" to comms@maidstone.example; notice=")
        self.assertEqual(d.stop(), 0, d.log())
        new = os.path.join(self.state, "maildir", "new")
        bodies = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.strict)
            bodies.append(m.get_body(("plain",)).get_content())
        self.assertTrue(any("World Suicide Prevention Day" in b for b in bodies), bodies)

    def test_a_late_prompt_for_an_observance_under_way_is_sent_and_says_so(self):
        """Looking back 30 days at a first start on Friday 3 October 2025,
        the prompt of Black History Month (1 to 31 October) due on 17
        September is still worth sending: it goes, saying the month is
        under way."""
        with open(self.conf) as f:
            text = f.read()
        self.assertIn("catch_up_days = 7;", text)
        with open(self.conf, "w") as f:
            f.write(text.replace("catch_up_days = 7;", "catch_up_days = 30;"))
        run(tool("ticklerd"), "-c", self.conf, "-p", harness.plugin_dir(), "--state-dir",
            self.state, "--now", "2025-10-03T09:00", "--oneshot")
        new = os.path.join(self.state, "maildir", "new")
        bodies = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.strict)
            if "comms@" in m["To"]:
                bodies.append(m.get_body(("plain",)).get_content())
        self.assertTrue(any("Black History Month When: 1\u201331 October 2025, under way, "
                            "began 2 days ago (this prompt is late)" in " ".join(b.split())
                            for b in bodies), bodies)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    harness.BUILD = ARGS.build
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
