"""Read a phone number the way people type it, before Altegio is asked about it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import pycountry
from phonenumbers import PhoneNumberType

from handlers.i18n import N_

MAX_INPUT = 40
# In English, as the card shows them; the card translates them for its reader.
_TYPES = {
    PhoneNumberType.MOBILE: N_("mobile"),
    PhoneNumberType.FIXED_LINE: N_("landline"),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: N_("landline or mobile"),
    PhoneNumberType.TOLL_FREE: N_("toll-free"),
    PhoneNumberType.PREMIUM_RATE: N_("premium-rate"),
    PhoneNumberType.VOIP: N_("VoIP"),
    PhoneNumberType.PAGER: N_("pager"),
    PhoneNumberType.UAN: N_("universal access"),
    PhoneNumberType.VOICEMAIL: N_("voicemail"),
    PhoneNumberType.SHARED_COST: N_("shared-cost"),
    PhoneNumberType.PERSONAL_NUMBER: N_("personal"),
}
UNKNOWN_TYPE = N_("unknown")


@dataclass(frozen=True)
class ParsedPhone:
    e164: str  # "+442079460958": what Altegio is asked about
    country: str  # "United Kingdom" (English; the card names it in its reader's language), or ""
    region: str  # "GB", or ""
    line_type: str  # "landline", "mobile", … or "unknown"
    plausible: bool  # phonenumbers' own opinion, shown beside Altegio's verdict


class NotAPhoneNumber(ValueError):
    pass


def country_name(region: str) -> str:
    """English name of a region code. Not phonenumbers' geocoder: importing it loads every
    prefix's place names, some 100 MiB of memory for one word on the card."""
    country = pycountry.countries.get(alpha_2=region) if region else None
    if country is None:
        return ""
    return getattr(country, "common_name", None) or country.name


def parse_phone(text: str) -> ParsedPhone:
    """Parse international input (`+44 20 7946 0958`, `0044…`, or digits with the country code)."""
    raw = text.strip()
    if not raw or len(raw) > MAX_INPUT:
        raise NotAPhoneNumber(raw)
    # Slack turns typed numbers into links: <tel:+4420…|+44 20 …>.
    link = re.fullmatch(r"<tel:([^|>]+)(?:\|[^>]*)?>", raw)
    if link:
        raw = link.group(1)
    compact = re.sub(r"[\s().\-/]", "", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        compact = "+" + compact  # Altegio's docs accept 71234567890: country code without '+'
    if not re.fullmatch(r"\+\d{4,17}", compact):
        raise NotAPhoneNumber(raw)
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        raise NotAPhoneNumber(raw) from exc
    region = phonenumbers.region_code_for_number(number) or ""
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=country_name(region),
        region=region,
        line_type=_TYPES.get(phonenumbers.number_type(number), UNKNOWN_TYPE),
        plausible=phonenumbers.is_valid_number(number),
    )
