from __future__ import annotations

from django.db import models

from twoway.accounts.models import Organization


class ConsentEventKind(models.TextChoices):
    OPT_OUT = "opt_out", "Opted out"
    OPT_IN = "opt_in", "Opted in"
    CONSENT_SENT = "consent_sent", "Consent message sent"
    OPT_OUT_FLAGGED = "opt_out_flagged", "Possible opt-out flagged"
    FLAG_DISMISSED = "flag_dismissed", "Not an opt-out (flag dismissed)"


class ConsentSource(models.TextChoices):
    """How an entry came about, in the words the ledger's readers see."""

    KEYWORD = "keyword", "Keyword text"
    MANUAL = "manual", "Agent"
    API = "api", "API"
    IMPORT = "import", "Import"
    MESSAGE = "message", "Consent message"
    MERGE = "merge", "Merge"


class ConsentEvent(models.Model):
    """The consent ledger: every opt-in, opt-out and consent event, kept for audit."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="consent_events"
    )
    kind = models.CharField(max_length=20, choices=ConsentEventKind.choices)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    # The words that caused it (the inbound text, or who changed it by hand).
    text = models.CharField(max_length=500, blank=True)
    phone_number = models.CharField(max_length=20, blank=True)
    # The e-mail of the person who caused it (by hand, over the API, by an import or a merge);
    # empty when the contact did (a keyword) or Twoway did (the consent message). Text, not a
    # link: the entry must still say who after that person's account is gone.
    actor = models.CharField(max_length=254, blank=True)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The ledger pages and the API read an organization's entries newest first.
            models.Index(fields=["organization", "-created_at", "-id"], name="consent_org_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_source_display()})"


class KeywordActionChoice(models.TextChoices):
    OPT_OUT = "opt_out", "Opt out"
    OPT_IN = "opt_in", "Opt in"
    HELP = "help", "Help"


class Keyword(models.Model):
    """A keyword an organization added to the carrier defaults: a text that is this word or
    phrase alone does what `action` says, exactly as the defaults do."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="keywords"
    )
    word = models.CharField(max_length=40)  # normalised: upper case, words one space apart
    action = models.CharField(max_length=8, choices=KeywordActionChoice.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "word"], name="keyword_unique_word")
        ]

    def __str__(self) -> str:
        return f"{self.word} ({self.get_action_display()})"
