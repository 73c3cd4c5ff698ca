"""The demo's static data: the offerings catalogue, industries, regions, names and reason codes.

Nothing here draws random numbers; :mod:`orchestration.demo.profile` and
:mod:`orchestration.demo.simulation` draw from these lists. Prices and costs are integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.landing.contract import CHURN_INITIATORS, LIFECYCLES, REVENUE_TYPES

TARGET_INDUSTRIES = (
    "healthcare",
    "legal",
    "accounting",
    "manufacturing",
    "professional_services",
)
"""Industries of the typical target client profile (TCP) the demo is built around; the TCP size
band the demo assumes is 10-250 employees."""
OTHER_INDUSTRIES = (
    "retail",
    "construction",
    "non_profit",
    "hospitality",
    "education",
    "real_estate",
    "logistics",
)

UNKNOWN_REASON_CODE = "other"
"""The catch-all reason code; the ``churn_reason_codes`` seed does not know it (unclassified)."""


@dataclass(frozen=True)
class Offering:
    """One catalogue entry. Prices and costs are monthly, in cents, per unit of ``unit``."""

    offering_id: str
    name: str
    family: str
    revenue_type: str
    lifecycle: str
    is_full_package_component: bool
    list_price_cents: int | None
    monthly_unit_cost_cents: int
    unit: str


OFFERINGS: tuple[Offering, ...] = (
    Offering("OFF-MS-ENDPOINT", "Managed Endpoints (per device)", "managed_services", "mrr",
             "current", True, 4500, 350, "device"),
    Offering("OFF-MS-NETWORK", "Managed Network & Firewall (per site)", "managed_services", "mrr",
             "current", True, 25000, 2000, "site"),
    Offering("OFF-MS-HELPDESK", "Unlimited Helpdesk (per user)", "managed_services", "mrr",
             "current", True, 3500, 0, "user"),
    Offering("OFF-SEC-EDR", "Endpoint Detection & Response (per device)", "security", "mrr",
             "current", True, 1200, 450, "device"),
    Offering("OFF-BCK-CLOUD", "Cloud Backup & Recovery (per server)", "backup_continuity", "mrr",
             "current", True, 9500, 3000, "server"),
    Offering("OFF-SEC-EMAIL", "Email Security & Archiving (per user)", "security", "mrr",
             "current", False, 400, 150, "user"),
    Offering("OFF-SEC-SAT", "Security Awareness Training (per user)", "security", "mrr",
             "current", False, 300, 100, "user"),
    Offering("OFF-SEC-MDR", "24x7 SOC / Managed Detection & Response (per device)", "security",
             "mrr", "current", False, 1800, 700, "device"),
    Offering("OFF-CLD-M365", "Microsoft 365 Business Premium Licences (per user)",
             "cloud_productivity", "mrr", "current", False, 2200, 1870, "user"),
    Offering("OFF-CLD-AZURE", "Managed Azure Hosting (per server)", "cloud_productivity", "mrr",
             "current", False, 32000, 18000, "server"),
    Offering("OFF-ADV-VCIO", "vCIO Strategic Advisory (monthly)", "advisory", "mrr", "current",
             False, 75000, 0, "flat"),
    Offering("OFF-LEG-BUNDLE", "Legacy Managed Services Bundle (per device)", "managed_services",
             "mrr", "legacy", False, 6500, 300, "device"),
    Offering("OFF-LEG-BDR", "Legacy On-premises Backup Appliance (per site)",
             "backup_continuity", "mrr", "legacy", False, 19900, 4000, "site"),
    Offering("OFF-PS-PROJECT", "Project Services (fixed fee)", "professional_services",
             "project_labor", "current", False, None, 0, "project"),
    Offering("OFF-PS-TM", "Time & Materials Labour (per hour)", "professional_services",
             "t_and_m", "current", False, 15000, 0, "hour"),
    Offering("OFF-PS-BLOCK", "Prepaid Block Hours (per hour)", "professional_services",
             "block_time", "current", False, 13500, 0, "hour"),
    Offering("OFF-HW-ENDPOINT", "Workstations & Laptops (resale)", "hardware", "product_resale",
             "current", False, None, 0, "unit"),
    Offering("OFF-HW-NETWORK", "Network & Firewall Appliances (resale)", "hardware",
             "product_resale", "current", False, None, 0, "unit"),
    Offering("OFF-SW-LICENCE", "Software Licences (resale)", "software", "product_resale",
             "current", False, None, 0, "unit"),
)  # fmt: skip
OFFERINGS_BY_ID = {o.offering_id: o for o in OFFERINGS}
#: The five current mrr offerings of the "full package".
FULL_PACKAGE = tuple(o.offering_id for o in OFFERINGS if o.is_full_package_component)
#: Current mrr offerings sold on top of a package (cross-sell).
EXTRAS = ("OFF-SEC-EMAIL", "OFF-SEC-SAT", "OFF-SEC-MDR", "OFF-CLD-M365", "OFF-CLD-AZURE")
#: The legacy mrr offerings a migration to the full package replaces.
LEGACY = ("OFF-LEG-BUNDLE", "OFF-LEG-BDR")
#: Position of each offering in the catalogue: agreement lines are listed in this order.
CATALOGUE_ORDER = {o.offering_id: n for n, o in enumerate(OFFERINGS)}

REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
ACCOUNT_MANAGERS = (
    "Dana Whitfield",
    "Marcus Osei",
    "Priya Raman",
    "Tom Brennan",
    "Elena Kovacs",
    "Jamal Carter",
    "Sofia Lindqvist",
)
NAME_STEMS = (
    "Harbor", "Summit", "Cedar", "Riverside", "Northgate", "Bluewater", "Granite", "Maple",
    "Lakeside", "Ironwood", "Pioneer", "Westbrook", "Oakridge", "Silverline", "Brightpath",
    "Keystone", "Redwood", "Meridian", "Clearwater", "Evergreen", "Stonebridge", "Hillcrest",
    "Fairview", "Copperfield", "Bayview", "Highland", "Willow", "Crescent", "Sterling", "Horizon",
)  # fmt: skip
SURNAMES = (
    "Whitfield", "Reyes", "Okafor", "Lindqvist", "Patel", "Moreau", "Castellano", "Brennan",
    "Nakamura", "Haddad", "Kowalski", "Delgado", "Fitzgerald", "Abernathy", "Sorensen", "Marsh",
    "Calloway", "Underwood", "Vasquez", "Donovan",
)  # fmt: skip
INDUSTRY_NOUNS = {
    "healthcare": ("Family Medicine", "Dental Group", "Pediatrics", "Physical Therapy",
                   "Medical Associates", "Eye Care", "Health Partners"),
    "legal": ("Law Group", "Legal", "Law Offices"),
    "accounting": ("CPAs", "Accounting", "Tax & Advisory"),
    "manufacturing": ("Manufacturing", "Precision Parts", "Fabrication", "Industries", "Plastics"),
    "professional_services": ("Consulting", "Engineering", "Architects", "Advisors", "Staffing"),
    "retail": ("Outfitters", "Home & Garden", "Market", "Boutique"),
    "construction": ("Builders", "Construction", "Contracting", "Roofing"),
    "non_profit": ("Foundation", "Community Services", "Trust"),
    "hospitality": ("Hotels", "Restaurant Group", "Inn & Suites"),
    "education": ("Academy", "Learning Center", "Montessori School"),
    "real_estate": ("Realty", "Property Management", "Real Estate"),
    "logistics": ("Logistics", "Freight", "Distribution"),
}  # fmt: skip
NAME_SUFFIXES = ("", "", " Inc.", " LLC", " Ltd.", " Co.")

# Reason codes: (code, weight, initiated_by or None for "either").
CHURN_REASONS = (
    ("price", 18, "customer"),
    ("service_quality", 15, "customer"),
    ("competitor", 14, "customer"),
    ("insourced", 8, "customer"),
    ("non_payment", 5, "provider"),
    ("bad_fit", 7, None),
    ("provider_terminated", 6, "provider"),
    ("out_of_business", 8, "customer"),
    ("acquired", 9, "customer"),
    (UNKNOWN_REASON_CODE, 3, "customer"),
)
LABOUR_HEAVY_REASONS = (
    ("provider_terminated", 5, "provider"),
    ("bad_fit", 4, "provider"),
    ("price", 3, "customer"),
    ("service_quality", 3, "customer"),
    ("competitor", 2, "customer"),
)
OFFERING_CANCEL_REASONS = (
    ("price", 5, "customer"),
    ("competitor", 3, "customer"),
    ("insourced", 3, "customer"),
    ("service_quality", 2, "customer"),
    (UNKNOWN_REASON_CODE, 1, "customer"),
)

KNOWN_REASON_CODES: tuple[str, ...] = tuple(
    code for code, _, _ in CHURN_REASONS if code != UNKNOWN_REASON_CODE
)
"""Reason codes of a churn other than the catch-all ``other``: the codes of the
``churn_reason_codes`` seed."""


def offering_rows() -> list[tuple]:
    """The catalogue as rows of the ``offerings`` landing table, in contract column order."""
    return [
        (
            o.offering_id,
            o.name,
            o.family,
            o.revenue_type,
            o.lifecycle,
            o.is_full_package_component,
            o.list_price_cents,
        )
        for o in OFFERINGS
    ]


def _check_against_the_contract() -> None:
    """Fails at import if the catalogue or the reason tables write a value the contract's
    enumerations do not allow."""
    for o in OFFERINGS:
        if o.revenue_type not in REVENUE_TYPES or o.lifecycle not in LIFECYCLES:
            raise ValueError(f"{o.offering_id}: {o.revenue_type}/{o.lifecycle} not in the contract")
    for reasons in (CHURN_REASONS, LABOUR_HEAVY_REASONS, OFFERING_CANCEL_REASONS):
        for code, _, initiated_by in reasons:
            if initiated_by is not None and initiated_by not in CHURN_INITIATORS:
                raise ValueError(f"{code}: initiated_by {initiated_by!r} not in the contract")


_check_against_the_contract()
