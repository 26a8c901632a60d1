#!/usr/bin/python3
"""The date tables (RDATE) of etc/calendars/uk-diversity.ics, computed by
libraries Debian packages, independently of tickler:

  Easter Sunday, Orthodox Easter   python3-dateutil (dateutil.easter)
  Rosh Hashanah, Yom Kippur,       python3-convertdate (convertdate.hebrew,
  Hanukkah, Passover               the fixed rules of the Hebrew calendar)
  Lunar New Year                   python3-lunardate (Chinese calendar tables)
  Ramadan (29 or 30 days: to the   python3-ephem, by the Umm al-Qura rule: a
  day before Eid al-Fitr),
  Eid al-Fitr, Eid al-Adha         month begins the day after the first evening
                                   in Mecca on which the conjunction came before
                                   sunset and the moon sets after the sun;
                                   python3-convertdate's arithmetic Islamic
                                   calendar names the month (and agrees within
                                   two days)
  Diwali, Holi, Vesak,             python3-ephem, by the Indian lunisolar
  Guru Nanak Gurpurab              calendar (amanta months named by the sidereal
                                   sign of the sun, Lahiri ayanamsa; times at
                                   New Delhi, IST):
     Diwali: Lakshmi Puja, the day whose sunset falls in the Amavasya tithi
       (elongation 348-360 degrees) that ends Ashvina, the second day when
       the tithi lasts past its sunset by at least a ghati (24 minutes);
     Holi: the day after Holika Dahan, which is held on the day (sunrise to
       sunrise) in which Bhadra, the first half of the Purnima tithi of
       Phalguna, ends;
     Vesak (Buddha Purnima) and Guru Nanak Gurpurab (Kartik Purnima): the
       day of the full moon of Vaisakha and of Kartika.

The test (tests/integration/test_calendar.py) checks that the shipped file
holds exactly these dates for 2025-2050, and that they agree with the
published tables it cites (2025-2035, and 2025-2027 for the observances added
later). Usage: scripts/calendar-dates.py [--write etc/calendars/uk-diversity.ics]
prints each table, or rewrites the RDATE lines of the file.
"""
import argparse
import datetime as dt
import math
import re
import sys

import ephem
from convertdate import hebrew, islamic
from dateutil import easter
from lunardate import LunarDate

FIRST, LAST = 2025, 2050
IST = dt.timedelta(hours=5, minutes=30)
MECCA_TIME = dt.timedelta(hours=3)


def place(lat, lon, elevation):
    o = ephem.Observer()
    o.lat, o.lon, o.elevation = lat, lon, elevation
    o.pressure = 0  # the Umm al-Qura and panchang rules use geometric horizons
    o.horizon = "-0:34"
    return o


DELHI = place("28.6139", "77.2090", 216)
MECCA = place("21.4225", "39.8262", 277)


def when(t):
    return ephem.Date(t).datetime()


def elongation(t):
    """The moon's ecliptic longitude less the sun's, in degrees [0, 360)."""
    s, m = ephem.Sun(t), ephem.Moon(t)
    ls = ephem.Ecliptic(s, epoch=t).lon
    lm = ephem.Ecliptic(m, epoch=t).lon
    return math.degrees(lm - ls) % 360.0


def tithi_end(t, degrees):
    """The first instant after t when the elongation reaches degrees."""
    ahead = lambda x: (degrees - elongation(x)) % 360.0  # falls to 0, then wraps
    lo = ephem.Date(t)
    hi = ephem.Date(lo + ephem.hour)
    while ahead(hi) <= ahead(lo):
        lo, hi = hi, ephem.Date(hi + ephem.hour)
    for _ in range(30):
        mid = ephem.Date((lo + hi) / 2)
        if ahead(mid) > ahead(lo):
            hi = mid
        else:
            lo = mid
    return ephem.Date(hi)


def lahiri(t):
    """The Lahiri ayanamsa in degrees (23.853 at J2000, 50.29" a year)."""
    years = (ephem.Date(t) - ephem.Date("2000/1/1 12:00")) / 365.25
    return 23.853 + years * 50.29 / 3600.0


def sidereal_sign(t):
    """The sun's sidereal sign at t: 0 Mesha (Aries) ... 11 Mina (Pisces)."""
    lon = math.degrees(ephem.Ecliptic(ephem.Sun(t), epoch=t).lon)
    return int(((lon - lahiri(t)) % 360.0) // 30)


def new_moons(year):
    """Every new moon from December of year-1 to January of year+1."""
    t = ephem.Date(dt.datetime(year - 1, 12, 1))
    out = []
    while True:
        t = ephem.next_new_moon(t)
        if when(t).year > year + 1 or when(t) > dt.datetime(year + 1, 2, 1):
            return out
        out.append(t)
        t = ephem.Date(t + 1)


def month_start(year, sign):
    """The new moon that begins the (nija) amanta month named after the sign
    following sign: the last new moon of year with the sun in sign."""
    found = [t for t in new_moons(year) if sidereal_sign(t) == sign and when(t).year == year]
    return found[-1]


def local_date(t, offset):
    return (when(t) + offset).date()


def sunrise(day, obs, offset):
    obs.date = ephem.Date(dt.datetime.combine(day, dt.time()) - offset)
    return obs.next_rising(ephem.Sun())


def sunset(day, obs, offset):
    obs.date = ephem.Date(dt.datetime.combine(day, dt.time()) - offset)
    return obs.next_setting(ephem.Sun())


def diwali(year):
    """Lakshmi Puja on the Amavasya that ends Ashvina (begins Kartika)."""
    nm = month_start(year, 6)  # sun in Tula
    start = tithi_end(ephem.Date(nm - 3), 348.0)
    end = nm
    days = []
    day = local_date(start, IST) - dt.timedelta(1)
    while day <= local_date(end, IST):
        s = sunset(day, DELHI, IST)
        if start <= s < end:
            days.append((day, s))
        day += dt.timedelta(1)
    if not days:  # the tithi fell between two sunsets: the night it began
        return local_date(start, IST)
    if len(days) == 2 and end - days[1][1] >= 24 * ephem.minute:
        return days[1][0]
    return days[0][0]


def purnima_day(nm):
    """The day of the Purnima after new moon nm: the first day whose sunrise
    falls in the tithi (elongation 168-180 degrees), or the day it ends when
    no sunrise does."""
    start, end = tithi_end(nm, 168.0), tithi_end(nm, 180.0)
    day = local_date(start, IST)
    while day <= local_date(end, IST):
        if start <= sunrise(day, DELHI, IST) < end:
            return day
        day += dt.timedelta(1)
    return local_date(end, IST)


def holika_dahan(year):
    """The evening of Holika Dahan: Phalguna Purnima at sunset once Bhadra
    (the tithi's first half) has ended by midnight; else the next evening
    when the Purnima lasts three and a half prahars (eighths of the day) of
    it; else the first evening, after Bhadra."""
    nm = month_start(year, 10)  # sun in Kumbha: Phalguna
    start, end = tithi_end(nm, 168.0), tithi_end(nm, 180.0)
    bhadra_end = tithi_end(nm, 174.0)
    day = local_date(start, IST) - dt.timedelta(1)
    while not start <= sunset(day, DELHI, IST) < end:
        day += dt.timedelta(1)
        if day > local_date(end, IST):  # no sunset in the tithi
            return local_date(bhadra_end - 12 * ephem.hour, IST)
    midnight = ephem.Date(dt.datetime.combine(day + dt.timedelta(1), dt.time()) - IST)
    if bhadra_end <= midnight:
        return day
    nxt = day + dt.timedelta(1)
    rise, sets = sunrise(nxt, DELHI, IST), sunset(nxt, DELHI, IST)
    if end - rise >= 3.5 * (sets - rise) / 4:
        return nxt
    return day


def holi(year):
    """Holi (Rangwali Holi): the day after Holika Dahan."""
    return holika_dahan(year) + dt.timedelta(1)


def vesak(year):
    return purnima_day(month_start(year, 0))  # Vaisakha


def gurpurab(year):
    return purnima_day(month_start(year, 6))  # Kartika


def umm_al_qura(hyear, hmonth):
    """The first day of a Hijri month by the Umm al-Qura rule."""
    approx = dt.date(*islamic.to_gregorian(hyear, hmonth, 1))
    conj = ephem.previous_new_moon(ephem.Date(dt.datetime.combine(approx, dt.time(12))))
    if approx - local_date(conj, MECCA_TIME) > dt.timedelta(days=10):
        conj = ephem.next_new_moon(conj + 1)
    day = local_date(conj, MECCA_TIME)
    while True:
        s = sunset(day, MECCA, MECCA_TIME)
        MECCA.date = ephem.Date(s - 6 * ephem.hour)
        moonset = MECCA.next_setting(ephem.Moon())
        if conj < s and moonset > s:
            return day + dt.timedelta(1)
        day += dt.timedelta(1)


def hijri_years():
    first = islamic.from_gregorian(FIRST, 1, 1)[0]
    last = islamic.from_gregorian(LAST, 12, 31)[0]
    return range(first, last + 1)


def islamic_table(hmonth, offset=0):
    days = [umm_al_qura(h, hmonth) + dt.timedelta(offset) for h in hijri_years()]
    return [x for x in days if FIRST <= x.year <= LAST]


def ramadan_table(length):
    """1 Ramadan of the years whose Ramadan lasts length days: to the
    day before 1 Shawwal (29 or 30)."""
    out = []
    for h in hijri_years():
        first = umm_al_qura(h, 9)
        if FIRST <= first.year <= LAST and (umm_al_qura(h, 10) - first).days == length:
            out.append(first)
    return out


def hebrew_table(month, day):
    out = []
    for hy in range(FIRST + 3760, LAST + 3762):
        g = dt.date(*hebrew.to_gregorian(hy, month, day))
        if FIRST <= g.year <= LAST:
            out.append(g)
    return sorted(out)


def years(fn):
    return [fn(y) for y in range(FIRST, LAST + 1)]


# uid -> (the table's first days, what computed them)
TABLES = {
    "lunar-new-year": (lambda: years(lambda y: LunarDate(y, 1, 1).toSolarDate()),
                       "python3-lunardate (first day of the first lunar month)"),
    # Ramadan lasts to the day before Eid al-Fitr: 29 days in some years,
    # 30 in others, one event each (an all-day event has one length)
    "ramadan": (lambda: ramadan_table(29),
                "python3-ephem, Umm al-Qura rule (1 Ramadan, a month of 29 days)"),
    "ramadan-30": (lambda: ramadan_table(30),
                   "python3-ephem, Umm al-Qura rule (1 Ramadan, a month of 30 days)"),
    "eid-al-fitr": (lambda: islamic_table(10), "python3-ephem, Umm al-Qura rule (1 Shawwal)"),
    "eid-al-adha": (lambda: islamic_table(12, 9),
                    "python3-ephem, Umm al-Qura rule (10 Dhu al-Hijjah)"),
    "diwali": (lambda: years(diwali), "python3-ephem, Amavasya of Ashvina at sunset in Delhi"),
    "holi": (lambda: years(holi), "python3-ephem, the day after Holika Dahan (Phalguna Purnima)"),
    "vesak": (lambda: years(vesak), "python3-ephem, full moon of Vaisakha (IST)"),
    "guru-nanak-gurpurab": (lambda: years(gurpurab), "python3-ephem, full moon of Kartika (IST)"),
    "rosh-hashanah": (lambda: hebrew_table(7, 1), "python3-convertdate (1 Tishrei)"),
    "yom-kippur": (lambda: hebrew_table(7, 10), "python3-convertdate (10 Tishrei)"),
    "hanukkah": (lambda: hebrew_table(9, 25), "python3-convertdate (25 Kislev)"),
    "passover": (lambda: hebrew_table(1, 15), "python3-convertdate (15 Nisan)"),
    "easter-sunday": (lambda: years(lambda y: easter.easter(y, easter.EASTER_WESTERN)),
                      "python3-dateutil (EASTER_WESTERN)"),
    "orthodox-easter": (lambda: years(lambda y: easter.easter(y, easter.EASTER_ORTHODOX)),
                        "python3-dateutil (EASTER_ORTHODOX)"),
}


def table(uid):
    return TABLES[uid][0]()


def fold(line):
    """An iCalendar content line folded at 75 octets."""
    out = [line[:75]]
    line = line[75:]
    while line:
        out.append(" " + line[:74])
        line = line[74:]
    return "\r\n".join(out)


def rewrite(text):
    """text with each table's DTSTART and RDATE lines set from TABLES."""
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    events = unfolded.split("BEGIN:VEVENT\r\n")
    for i, ev in enumerate(events):
        m = re.search(r"^UID:([^@\r]+)@", ev, re.M)
        if not m or m.group(1) not in TABLES:
            continue
        days = table(m.group(1))
        ev = re.sub(r"^DTSTART;VALUE=DATE:\d+\r\n",
                    "DTSTART;VALUE=DATE:%s\r\n" % days[0].strftime("%Y%m%d"), ev, flags=re.M)
        rdate = "RDATE;VALUE=DATE:" + ",".join(x.strftime("%Y%m%d") for x in days[1:])
        ev = re.sub(r"^RDATE;VALUE=DATE:[\d,]+\r\n", rdate + "\r\n", ev, flags=re.M)
        events[i] = ev
    lines = "BEGIN:VEVENT\r\n".join(events).split("\r\n")
    return "\r\n".join(fold(x) for x in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", metavar="ICS", help="rewrite the RDATE lines of this file")
    args = ap.parse_args()
    if args.write:
        with open(args.write, newline="") as f:
            text = f.read()
        with open(args.write, "w", newline="") as f:
            f.write(rewrite(text))
        return 0
    for uid, (fn, how) in TABLES.items():
        print("%s (%s):\n  %s" % (uid, how, " ".join(x.isoformat() for x in fn())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
