"""Test-only: the mapping of plugins/portal-visibility (canonical
``shipment-event@1.0`` -> the customer portal's shipment visibility update)
in Python, so the per-language benchmark (host/benches/plugin_langs.rs)
compares one mapping across Rust, JavaScript and Python. Its fixtures are
the Rust plugin's cases."""

import json

from waybill_sdk import PLUGIN_NAME, Output, PluginError, PluginInfo, canonical, config, expect_canonical_document

SHIPMENT_VISIBILITY = "vendor:portal.shipment-visibility@1"
CARRIER_NAMES = "carrier_names"
DEFAULT_CUSTOMER_ID = "default_customer_id"

STATUS_TEXT = {
    "BOOKED": "Booked",
    "DISPATCHED": "Carrier dispatched",
    "ARRIVED_PICKUP": "Carrier at pickup",
    "DEPARTED_PICKUP": "Picked up",
    "IN_TRANSIT": "In transit",
    "DELAYED": "Delayed",
    "ARRIVED_DELIVERY": "Arrived at delivery location",
    "DELIVERED": "Delivered",
    "POD_AVAILABLE": "Delivered, proof of delivery available",
    "EXCEPTION": "Exception",
    "CANCELLED": "Cancelled",
}


def describe():
    return PluginInfo.mapper([canonical.SHIPMENT_EVENT_1_0], [SHIPMENT_VISIBILITY]).with_config_keys(
        [CARRIER_NAMES, DEFAULT_CUSTOMER_ID]
    )


def map(message):
    message.expect_canonical(PLUGIN_NAME, canonical.SHIPMENT_EVENT_1_0)
    raw = config.get(CARRIER_NAMES)
    carrier_names = {} if raw is None else parse_carrier_names(raw)
    default_customer = non_blank(config.get(DEFAULT_CUSTOMER_ID))
    event = expect_canonical_document(message.json(), canonical.SHIPMENT_EVENT_1_0)
    return [Output.json(SHIPMENT_VISIBILITY, event["shipment_id"], to_visibility(event, carrier_names, default_customer))]


def parse_carrier_names(raw):
    names, problems = {}, []
    for index, part in enumerate(raw.split(";"), start=1):
        entry = part.strip()
        if not entry:
            continue
        scac, eq, name = entry.partition("=")
        scac, name = scac.strip().upper(), name.strip()
        if not eq or not scac or not name:
            problems.append(f"entry {index} ({json.dumps(entry)}) is not SCAC=Name")
        elif scac in names:
            problems.append(f"entry {index} repeats SCAC {json.dumps(scac)}")
        else:
            names[scac] = name
    if problems:
        raise PluginError.invalid(
            f"config/{CARRIER_NAMES}",
            "invalid-config",
            f'{CARRIER_NAMES} must look like "ODFL=Old Dominion Freight Line;SAIA=Saia Inc": {"; ".join(problems)}',
        )
    return names


def to_visibility(event, carrier_names, default_customer):
    order_number = non_blank(event.get("order_id"))
    if order_number is None:
        raise PluginError.invalid(
            "/order_id", "required", "the portal shows shipments under the customer's order; this event has no order_id"
        )
    scac = non_blank(event.get("carrier_scac"))
    location = event.get("location") or {}
    parts = [p for p in (non_blank(location.get("city")), non_blank(location.get("region"))) if p is not None]
    return {
        "orderNumber": order_number,
        "customerId": non_blank(event.get("customer_id")) or default_customer,
        "status": STATUS_TEXT[event["milestone"]],
        "statusCode": event["milestone"],
        "lastLocation": ", ".join(parts) if parts else None,
        "estimatedDelivery": non_blank(event.get("eta")),
        "updatedAt": event["event_time"],
        "carrier": None if scac is None else carrier_names.get(scac.upper(), scac),
        "trackingNumber": non_blank(event.get("pro_number")),
    }


def non_blank(value):
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
