"""The Settings > Organization form as its page posts it: every field with the organization's
current value (a ticked box as "on", an unticked one left out), then the test's changes; a
change of None leaves that field out, as an unticked box or a field the page lacks."""

from __future__ import annotations

from twoway.accounts.models import Organization

_CHECKBOXES = ("allow_conversation_delete", "consent_required", "drips_enabled")


def organization_form(org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": org.name,
        "max_message_length": org.max_message_length,
        "allowed_countries": org.allowed_countries,
        "help_text": org.help_text,
        "opt_out_confirmation": org.opt_out_confirmation,
        "opt_in_confirmation": org.opt_in_confirmation,
        "consent_message": org.consent_message,
        "time_zone": org.time_zone,
        "sending_window_start": org.sending_window_start.strftime("%H:%M"),
        "sending_window_end": org.sending_window_end.strftime("%H:%M"),
        "automated_daily_cap": org.automated_daily_cap or "",
    }
    data.update({box: "on" for box in _CHECKBOXES if getattr(org, box)})
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
