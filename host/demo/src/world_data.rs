//! The distributor's fixed master data: warehouses by region (as the
//! shipment-request plugin's `warehouses` configuration spells them),
//! customer sites, carriers and the items it ships.

/// A regional warehouse, shipping from `line1, city, state postal`.
pub struct Warehouse {
    pub code: &'static str,
    pub region: &'static str,
    pub line1: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub postal: &'static str,
    /// The fixed offset the shipment-request plugin books pickups in.
    pub utc_offset: &'static str,
}

pub const WAREHOUSES: [Warehouse; 5] = [
    Warehouse {
        code: "WH-RUMFORD-ME",
        region: "Northeast",
        line1: "1 Dump Road",
        city: "Rumford",
        state: "ME",
        postal: "04276",
        utc_offset: "-04:00",
    },
    Warehouse {
        code: "WH-ALLENTOWN-PA",
        region: "Mid-Atlantic",
        line1: "7355 Industrial Blvd",
        city: "Allentown",
        state: "PA",
        postal: "18106",
        utc_offset: "-04:00",
    },
    Warehouse {
        code: "WH-JOLIET-IL",
        region: "Midwest",
        line1: "2500 Channahon Rd",
        city: "Joliet",
        state: "IL",
        postal: "60436",
        utc_offset: "-05:00",
    },
    Warehouse {
        code: "WH-DALLAS-TX",
        region: "South",
        line1: "4800 Mountain Creek Pkwy",
        city: "Dallas",
        state: "TX",
        postal: "75236",
        utc_offset: "-05:00",
    },
    Warehouse {
        code: "WH-RENO-NV",
        region: "West",
        line1: "1200 Trademark Dr",
        city: "Reno",
        state: "NV",
        postal: "89521",
        utc_offset: "-07:00",
    },
];

/// A customer and the site its orders ship to, served from `warehouse`.
pub struct Site {
    pub id: &'static str,
    pub name: &'static str,
    pub ship_to_name: &'static str,
    pub line1: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub postal: &'static str,
    pub warehouse: usize,
}

const fn site(
    id: &'static str,
    name: &'static str,
    ship_to_name: &'static str,
    place: (&'static str, &'static str, &'static str, &'static str),
    warehouse: usize,
) -> Site {
    Site {
        id,
        name,
        ship_to_name,
        line1: place.0,
        city: place.1,
        state: place.2,
        postal: place.3,
        warehouse,
    }
}

pub const SITES: [Site; 12] = [
    site(
        "CUST-00871",
        "Kowalski Paper Converting",
        "Kowalski Paper Converting",
        ("400 Mill St", "Holyoke", "MA", "01040"),
        0,
    ),
    site(
        "CUST-01120",
        "Granite Mill Press",
        "Granite Mill Press",
        ("88 Canal St", "Manchester", "NH", "03101"),
        0,
    ),
    site(
        "CUST-01544",
        "Keystone Label Co",
        "Keystone Label Reading Plant",
        ("450 Penn St", "Reading", "PA", "19602"),
        1,
    ),
    site(
        "CUST-01702",
        "Chesapeake Print Works",
        "Chesapeake Print Works",
        ("2100 Aliceanna St", "Baltimore", "MD", "21231"),
        1,
    ),
    site(
        "CUST-02210",
        "Quad Graphics Inc",
        "Quad Graphics Inc",
        ("555 S 108th St", "West Allis", "WI", "53214"),
        2,
    ),
    site(
        "CUST-02388",
        "Lakeshore Packaging",
        "Lakeshore Packaging",
        ("3300 W Lake St", "Chicago", "IL", "60624"),
        2,
    ),
    site(
        "CUST-02415",
        "Hoosier Box & Board",
        "Hoosier Box & Board",
        ("1500 E Washington St", "Indianapolis", "IN", "46201"),
        2,
    ),
    site(
        "CUST-03105",
        "Lone Star Cartons",
        "Lone Star Cartons Fort Worth",
        ("3500 N Main St", "Fort Worth", "TX", "76106"),
        3,
    ),
    site(
        "CUST-03290",
        "Gulf Coast Print",
        "Gulf Coast Print",
        ("7000 Harrisburg Blvd", "Houston", "TX", "77011"),
        3,
    ),
    site(
        "CUST-03377",
        "Magnolia Paper Goods",
        "Magnolia Paper Goods",
        ("400 E Capitol St", "Jackson", "MS", "39201"),
        3,
    ),
    site(
        "CUST-04410",
        "Sierra Publishing",
        "Sierra Publishing Sacramento",
        ("1600 Exposition Blvd", "Sacramento", "CA", "95815"),
        4,
    ),
    site(
        "CUST-04562",
        "Cascade Corrugated",
        "Cascade Corrugated",
        ("2100 SE Division St", "Portland", "OR", "97202"),
        4,
    ),
];

/// The customer the demo puts on credit hold; it has exactly one order.
pub const HOLD_SITE: Site = site(
    "CUST-09001",
    "Harborview Stationers",
    "Harborview Stationers",
    ("12 Commercial St", "Portland", "ME", "04101"),
    0,
);

/// The carriers Acme tenders to, as the ERP masters them.
pub const CARRIERS: [(&str, &str, &str); 3] = [
    ("ODFL", "Old Dominion Freight Line", "MC-107512"),
    ("SAIA", "Saia Inc", "MC-118917"),
    ("EXLA", "Estes Express Lines", "MC-105764"),
];

/// What the distributor ships: (item code, name, uom, lb per unit, rate in
/// cents). The last one is the pallet every order ships on.
pub const ITEMS: [(&str, &str, &str, f64, i64); 5] = [
    (
        "PAP-40-CONGLTX",
        "Paper roll 40# Consolite",
        "ROL",
        456.0,
        18_250,
    ),
    ("PAP-50-OPQ", "Paper roll 50# Opaque", "ROL", 520.0, 21_400),
    (
        "BRD-24PT-SBS",
        "Board 24pt SBS sheets",
        "SKD",
        1_180.0,
        64_000,
    ),
    ("ENV-10-WHT", "Envelopes #10 white, case", "CS", 24.0, 3_150),
    ("PAL-STD", "Standard pallet", "EA", 40.0, 0),
];
