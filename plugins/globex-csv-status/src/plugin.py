"""Inbound mapper: Globex's CSV carrier status feed -> canonical
``shipment-event@1.0``, one event per data row.

Globex (a regional LTL carrier) posts a CSV file of status records every few
minutes, one row per status change of a shipment it moves. Columns (header
row required, names case-insensitive, order free, unknown columns ignored):

- ``status_id`` (required): Globex's unique id of the record ->
  ``source.id``; the canonical ``event_id`` is ``globex:<status_id>``;
- ``pro_number`` (required) -> ``pro_number``;
- ``bol_number`` (required) -> ``shipment_id`` (the bill of lading every
  party carries) and the business key;
- ``scac`` -> ``carrier_scac`` (upper-cased; 2-4 letters);
- ``customer_ref`` -> ``order_id`` (the shipper's reference: the ERP sales
  order);
- ``status_code`` (required) -> ``milestone`` (see ``MILESTONES``), kept as
  ``source_status_code``; ``reason_code`` -> ``reason_code``;
- ``event_date`` (``MM/DD/YYYY``), ``event_time`` (``HH:MM``, 24 h) and
  ``time_zone`` (``EST``, ``CDT``, ... or ``UTC``), all required ->
  ``event_time`` in RFC 3339 with the zone's offset;
- ``city``, ``state``, ``zip``, ``country`` -> ``location`` (country
  defaults to config ``default_country``, else ``US``);
- ``eta_date`` / ``eta_time`` (same zone) -> ``eta`` when both are set.

Every problem of every row is reported at once, at ``/line/<n>/<column>``
(``n`` is the file's line number, the header being line 1), so a bad feed is
fixed in one round trip. A file with a header and no rows maps to nothing.
"""

import csv
import io
import re

from waybill_sdk import PLUGIN_NAME, Output, PluginError, PluginInfo, Violation, canonical, config

KIND = "globex.status-csv"
"""The message kind routes give Globex's feed."""
DEFAULT_COUNTRY = "default_country"
"""Config key: the country of rows without one (default ``US``)."""
SYSTEM = "globex"

MILESTONES = {
    "PU": "DEPARTED_PICKUP",  # picked up at the shipper
    "AP": "ARRIVED_PICKUP",  # driver at the shipper
    "DP": "IN_TRANSIT",  # departed a terminal
    "AR": "IN_TRANSIT",  # arrived at a terminal
    "OD": "IN_TRANSIT",  # out for delivery
    "DX": "DELAYED",  # delayed (reason_code says why)
    "AD": "ARRIVED_DELIVERY",  # driver at the consignee
    "DL": "DELIVERED",
    "PD": "POD_AVAILABLE",  # signed delivery receipt scanned
    "EX": "EXCEPTION",  # damage, refusal, ... (reason_code)
    "CX": "CANCELLED",
}
"""Globex status codes -> canonical milestones."""

ZONES = {
    "UTC": "+00:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CST": "-06:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
}
"""Time zones Globex writes, with their UTC offsets."""

REQUIRED = ("status_id", "pro_number", "bol_number", "status_code", "event_date", "event_time", "time_zone")
DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
TIME = re.compile(r"^(\d{2}):(\d{2})$")
SCAC = re.compile(r"^[A-Z]{2,4}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def describe():
    return PluginInfo.mapper([KIND], [canonical.SHIPMENT_EVENT_1_0]).with_config_keys([DEFAULT_COUNTRY])


def map(message):
    message.expect_kind(PLUGIN_NAME, KIND)
    country = (config.get(DEFAULT_COUNTRY) or "US").strip().upper()
    if not COUNTRY.match(country):
        raise PluginError.invalid(
            f"config/{DEFAULT_COUNTRY}", "invalid-config", f"{DEFAULT_COUNTRY}={country!r} is not an ISO 3166-1 alpha-2 code"
        )
    text = message.text()
    if text.startswith("\ufeff"):
        text = text[1:]  # Excel's byte order mark
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise PluginError.invalid("/line/1", "required", "the feed has no header row")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PluginError.invalid_all(
            [Violation("/line/1", "required", f"column {c} is missing from the header") for c in missing]
        )
    problems = []
    outputs = []
    for index, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) > len(header):
            problems.append(
                Violation(f"/line/{index}", "extra-cells", f"{len(cells)} cells, the header names {len(header)}")
            )
            continue
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        event, found = to_event(row, index, country)
        problems.extend(found)
        if event is not None:
            outputs.append(Output.json(canonical.SHIPMENT_EVENT_1_0, event["shipment_id"], event))
    if problems:
        raise PluginError.invalid_all(problems)
    return outputs


def to_event(row, line, country):
    """One row -> (canonical event or None, violations)."""
    problems = []

    def at(column):
        return f"/line/{line}/{column}"

    for column in REQUIRED:
        if row[column] == "":
            problems.append(Violation(at(column), "required", f"{column} is empty"))
    code = row["status_code"].upper()
    milestone = MILESTONES.get(code)
    if code and milestone is None:
        problems.append(
            Violation(at("status_code"), "unknown-code", f"unknown Globex status {row['status_code']!r}; known: {', '.join(MILESTONES)}")
        )
    zone = row["time_zone"].upper()
    offset = ZONES.get(zone)
    if zone and offset is None:
        problems.append(Violation(at("time_zone"), "unknown-code", f"unknown time zone {row['time_zone']!r}; known: {', '.join(ZONES)}"))
    event_time = timestamp(row["event_date"], row["event_time"], offset, at, "event_date", "event_time", problems)
    eta = None
    if row.get("eta_date", "") or row.get("eta_time", ""):
        eta = timestamp(row.get("eta_date", ""), row.get("eta_time", ""), offset, at, "eta_date", "eta_time", problems, required=True)
    scac = row.get("scac", "").upper()
    if scac and not SCAC.match(scac):
        problems.append(Violation(at("scac"), "invalid-field", f"SCAC {row['scac']!r} is not 2-4 letters"))
    row_country = row.get("country", "").upper() or country
    if not COUNTRY.match(row_country):
        problems.append(Violation(at("country"), "invalid-field", f"country {row['country']!r} is not an ISO 3166-1 alpha-2 code"))
    if problems or milestone is None or event_time is None:
        return None, problems

    event = {
        "event_id": f"{SYSTEM}:{row['status_id']}",
        "source": {"system": SYSTEM, "id": row["status_id"]},
        "shipment_id": row["bol_number"],
    }
    if row.get("customer_ref"):
        event["order_id"] = row["customer_ref"]
    if scac:
        event["carrier_scac"] = scac
    event["pro_number"] = row["pro_number"]
    event["milestone"] = milestone
    event["source_status_code"] = code
    if row.get("reason_code"):
        event["reason_code"] = row["reason_code"].upper()
    event["event_time"] = event_time
    location = {}
    for column, field in (("city", "city"), ("state", "region"), ("zip", "postal_code")):
        if row.get(column):
            location[field] = row[column].upper() if field == "region" else row[column]
    if location:
        location["country"] = row_country
        event["location"] = location
    if eta is not None:
        event["eta"] = eta
    return event, []


def valid_date(year, month, day):
    """Whether the calendar has that day (leap years included)."""
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (29 if month == 2 and leap else DAYS[month - 1])


def timestamp(date, time, offset, at, date_column, time_column, problems, required=False):
    """``MM/DD/YYYY`` + ``HH:MM`` + offset -> RFC 3339, or None with the problem recorded."""
    if required:
        for column, value in ((date_column, date), (time_column, time)):
            if value == "":
                problems.append(Violation(at(column), "required", f"{column} is empty while {date_column if column == time_column else time_column} is set"))
    if date == "" or time == "":
        return None
    d, t = DATE.match(date), TIME.match(time)
    ok = True
    if d is None or not valid_date(int(d.group(3)), int(d.group(1)), int(d.group(2))):
        problems.append(Violation(at(date_column), "invalid-field", f"{date!r} is not a date MM/DD/YYYY"))
        ok = False
    if t is None or int(t.group(1)) > 23 or int(t.group(2)) > 59:
        problems.append(Violation(at(time_column), "invalid-field", f"{time!r} is not a time HH:MM (24 h)"))
        ok = False
    if not ok or offset is None:
        return None
    month, day, year = d.groups()
    return f"{year}-{month}-{day}T{t.group(1)}:{t.group(2)}:00{offset}"
