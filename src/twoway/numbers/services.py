from __future__ import annotations

from twoway.accounts.models import Organization
from twoway.numbers.models import DEFAULT_MPS, NumberType, PhoneNumber

# Area codes for simulated numbers, by country: a number that looks local to the business.
_SIMULATED_PREFIX = {"US": "+1415555", "CA": "+1416555"}


def number_assign_simulated(*, organization: Organization) -> PhoneNumber:
    """Give the organization a free number on the simulated network."""
    prefix = _SIMULATED_PREFIX.get(organization.country, "+1415555")
    taken = set(
        PhoneNumber.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    )
    for suffix in range(100, 10000):
        candidate = f"{prefix}{suffix:04d}"
        if candidate not in taken:
            return PhoneNumber.objects.create(
                organization=organization,
                number=candidate,
                label="Main",
                number_type=NumberType.LOCAL,
                carrier="simulator",
                mps_limit=DEFAULT_MPS[NumberType.LOCAL],
            )
    raise RuntimeError("The simulated network has no free numbers left for this area.")
