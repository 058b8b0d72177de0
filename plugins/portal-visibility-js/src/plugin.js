// Outbound mapper: canonical `shipment-event@1.0` -> customer portal
// shipment visibility update (`vendor:portal.shipment-visibility@1`), the
// same mapping as the Rust plugin plugins/portal-visibility, written with
// the JavaScript SDK.
//
// Field rules:
// - `orderNumber` = `order_id` (required, `/order_id`: the portal lists
//   shipments under the customer's orders);
// - `customerId` = the event's `customer_id`, else config
//   `default_customer_id`, else null;
// - `status` = customer-facing text of the milestone, `statusCode` = the
//   canonical milestone code;
// - `lastLocation` = "City, ST" from the event location (the part known when
//   one is missing, null when neither is);
// - `estimatedDelivery` = `eta`, `updatedAt` = `event_time`;
// - `carrier` = the name config `carrier_names` gives the SCAC
//   ("ODFL=Old Dominion Freight Line;SAIA=Saia Inc"), else the SCAC, else
//   null; a malformed `carrier_names` is an error naming
//   `config/carrier_names`, whatever the event's carrier;
// - `trackingNumber` = `pro_number`.
// The business key is the shipment id, so one shipment's updates stay in order.

import { Output, PluginError, PluginInfo, canonical, config, expectCanonicalDocument, pkg } from "@waybill/plugin-sdk";

/** Schema id of the portal's visibility update. */
export const SHIPMENT_VISIBILITY = "vendor:portal.shipment-visibility@1";
/** Config key: `SCAC=Name;SCAC=Name` carrier display names. */
export const CARRIER_NAMES = "carrier_names";
/** Config key: customer id used when the event carries none. */
export const DEFAULT_CUSTOMER_ID = "default_customer_id";

/** What a customer reads for each canonical milestone. */
const STATUS_TEXT = {
  BOOKED: "Booked",
  DISPATCHED: "Carrier dispatched",
  ARRIVED_PICKUP: "Carrier at pickup",
  DEPARTED_PICKUP: "Picked up",
  IN_TRANSIT: "In transit",
  DELAYED: "Delayed",
  ARRIVED_DELIVERY: "Arrived at delivery location",
  DELIVERED: "Delivered",
  POD_AVAILABLE: "Delivered, proof of delivery available",
  EXCEPTION: "Exception",
  CANCELLED: "Cancelled",
};

export function describe() {
  return PluginInfo.mapper([canonical.SHIPMENT_EVENT_1_0], [SHIPMENT_VISIBILITY]).withConfigKeys([
    CARRIER_NAMES,
    DEFAULT_CUSTOMER_ID,
  ]);
}

export function map(message) {
  message.expectCanonical(pkg.name, canonical.SHIPMENT_EVENT_1_0);
  // Configuration first: a broken operator setting fails every message the
  // same way, not only those that happen to need it.
  const raw = config.get(CARRIER_NAMES);
  const carrierNames = raw === undefined ? new Map() : parseCarrierNames(raw);
  const defaultCustomer = nonBlank(config.get(DEFAULT_CUSTOMER_ID));
  const event = expectCanonicalDocument(message.json(), canonical.SHIPMENT_EVENT_1_0);
  const update = toVisibility(event, carrierNames, defaultCustomer);
  return [Output.json(SHIPMENT_VISIBILITY, event.shipment_id, update)];
}

/**
 * Parses `SCAC=Name;SCAC=Name` (blank entries and surrounding spaces are
 * ignored; SCACs match case-insensitively). Every malformed entry is
 * reported under `config/carrier_names`.
 */
export function parseCarrierNames(raw) {
  const names = new Map();
  const problems = [];
  raw.split(";").forEach((part, index) => {
    const entry = part.trim();
    if (entry === "") return;
    const eq = entry.indexOf("=");
    const scac = eq < 0 ? "" : entry.slice(0, eq).trim().toUpperCase();
    const name = eq < 0 ? "" : entry.slice(eq + 1).trim();
    if (scac === "" || name === "") {
      problems.push(`entry ${index + 1} (${JSON.stringify(entry)}) is not SCAC=Name`);
    } else if (names.has(scac)) {
      problems.push(`entry ${index + 1} repeats SCAC ${JSON.stringify(scac)}`);
    } else {
      names.set(scac, name);
    }
  });
  if (problems.length > 0) {
    throw PluginError.invalid(
      `config/${CARRIER_NAMES}`,
      "invalid-config",
      `${CARRIER_NAMES} must look like "ODFL=Old Dominion Freight Line;SAIA=Saia Inc": ${problems.join("; ")}`,
    );
  }
  return names;
}

/** Maps one canonical event to the portal's update. */
export function toVisibility(event, carrierNames, defaultCustomer) {
  const orderNumber = nonBlank(event.order_id);
  if (orderNumber === null) {
    throw PluginError.invalid(
      "/order_id",
      "required",
      "the portal shows shipments under the customer's order; this event has no order_id",
    );
  }
  const scac = nonBlank(event.carrier_scac);
  return {
    orderNumber,
    customerId: nonBlank(event.customer_id) ?? defaultCustomer,
    status: STATUS_TEXT[event.milestone],
    statusCode: event.milestone,
    lastLocation: cityRegion(event.location),
    estimatedDelivery: nonBlank(event.eta),
    updatedAt: event.event_time,
    carrier: scac === null ? null : (carrierNames.get(scac.toUpperCase()) ?? scac),
    trackingNumber: nonBlank(event.pro_number),
  };
}

/** "City, ST", or the one part known, or null. */
function cityRegion(location) {
  if (!location) return null;
  const parts = [location.city, location.region].map(nonBlank).filter((p) => p !== null);
  return parts.length === 0 ? null : parts.join(", ");
}

/** The trimmed string, null when absent or blank. */
function nonBlank(value) {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}
