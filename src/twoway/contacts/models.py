from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models.functions import Lower

from twoway.accounts.models import Organization


class OptInStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class ConsentStatus(models.TextChoices):
    NOT_SENT = "not_sent", "Consent message not sent"
    SENT = "sent", "Consent message sent"


class CreatedFrom(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    API = "api", "API"
    INBOUND = "inbound", "Inbound lead"


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"


class ContactGroup(models.Model):
    """A group of the organization's contacts (a client group); a contact may be in several."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_groups"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="contact_group_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A field an administrator added to the organization's contacts, with its type."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="custom_fields"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=CustomFieldKind.choices)
    # The values a choice field may take, in the order they are offered.
    options = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="custom_field_unique")
        ]

    def __str__(self) -> str:
        return self.name


# New columns of contacts and their phones carry a database default too: the send and inbound
# batches and the sample-inbox generator insert those rows naming only the columns they fill.
class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    # The display name the inbox, search and exports read; `contact_update` writes it from the
    # first and last name, the only ones a person edits.
    name = models.CharField(max_length=200, blank=True)
    first_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    last_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    email = models.EmailField(blank=True)
    external_uid = models.CharField(max_length=100, blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    client_type = models.CharField(max_length=100, blank=True, default="", db_default="")
    home_location = models.CharField(max_length=200, blank=True, default="", db_default="")
    # IANA name; empty means the organization's time zone.
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")
    groups = models.ManyToManyField(ContactGroup, blank=True, related_name="contacts")
    opt_in_status = models.CharField(
        max_length=16, choices=OptInStatus.choices, default=OptInStatus.OPTED_IN
    )
    consent_status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.NOT_SENT
    )
    # Set while a worded opt-out ("please stop texting me") waits for an agent to confirm or
    # dismiss it; the Possible opt-outs list reads it. Set by `contact_flag_opt_out`, cleared by
    # `contact_review_opt_out` or any change of `opt_in_status`, each with its ledger entry.
    opt_out_flagged_at = models.DateTimeField(null=True, blank=True)
    created_from = models.CharField(
        max_length=16, choices=CreatedFrom.choices, default=CreatedFrom.MANUAL
    )
    # The business number a lead first texted, so leads can be attributed.
    source_number = models.ForeignKey(
        "numbers.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL
    )
    # When a lead first texted (its own field, not `created_at`: a merge may carry it over).
    lead_texted_at = models.DateTimeField(null=True, blank=True)
    # When the contact last texted or was texted, in any of their conversations: the table's
    # "Recent activity first". Written by `contacts.activity` wherever a conversation's last
    # message moves.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The contacts table's sorts read a page from these in order (`contacts.lookup`); the
        # filters' lists of values are read off the client type and home location ones.
        indexes = [
            models.Index(fields=["organization", "name", "id"], name="contact_org_name"),
            models.Index(fields=["organization", "created_at", "id"], name="contact_org_created"),
            models.Index(
                fields=["organization", "last_activity_at", "id"], name="contact_org_activity"
            ),
            models.Index(fields=["organization", "client_type"], name="contact_org_client_type"),
            models.Index(fields=["organization", "home_location"], name="contact_org_location"),
            # Merge suggestions: contacts sharing an e-mail or a name, in any case.
            models.Index("organization", Lower("email"), name="contact_org_email_lower"),
            models.Index("organization", Lower("name"), name="contact_org_name_lower"),
            models.Index(
                fields=["organization", "opt_out_flagged_at"],
                name="contact_org_opt_out_flagged",
                condition=models.Q(opt_out_flagged_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"

    @property
    def is_opted_out(self) -> bool:
        return self.opt_in_status == OptInStatus.OPTED_OUT


class ContactPhone(models.Model):
    """One of a contact's phone numbers (E.164); a number belongs to one contact per org."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20)
    label = models.CharField(max_length=40, blank=True, default="", db_default="")
    # At most one per contact; a contact none of whose phones is marked (as the texting paths
    # create them) has its oldest as primary (`primary_phone`).
    is_primary = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="contact_phone_unique"),
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(is_primary=True),
                name="contact_phone_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return self.number


def phones_in_order(phones: Iterable[ContactPhone]) -> list[ContactPhone]:
    """A contact's phones, the primary first, then the others oldest first."""
    ordered = sorted(phones, key=lambda phone: phone.pk)
    primary = next((phone for phone in ordered if phone.is_primary), None)
    if primary is None:
        return ordered
    return [primary, *(phone for phone in ordered if phone is not primary)]


class CustomFieldValue(models.Model):
    """A contact's value of a custom field, as text: numbers in plain decimal notation, dates
    as YYYY-MM-DD, a choice as the option's name."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "field"], name="custom_value_unique")
        ]

    def __str__(self) -> str:
        return self.value


class ContactMerge(models.Model):
    """A contact merged into another: its row is deleted, so this keeps its id leading to the
    survivor (its card, the API). Merging the survivor later moves these along to the next."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    merged_id = models.BigIntegerField()
    merged_name = models.CharField(max_length=200, blank=True)
    survivor = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merged_away")
    merged_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "merged_id"], name="contact_merge_unique"
            )
        ]

    def __str__(self) -> str:
        return f"contact {self.merged_id} → {self.survivor_id}"


class ContactImportStatus(models.TextChoices):
    MAPPING = "mapping", "Waiting for its columns to be matched"
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Stopped"


class ContactImport(models.Model):
    """A CSV file of contacts being imported: what was read of it when it was uploaded (its
    encoding, separator and columns), which field each column fills, and how far the import
    is. The file itself is kept in the storage (`stored_name`) only until the import ends."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_imports"
    )
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=1)
    # The header's column names, and the field each column fills ("" for none), in order.
    columns = models.JSONField(default=list)
    mapping = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=ContactImportStatus.choices, default=ContactImportStatus.MAPPING
    )
    # Progress: rows read and the bytes of the file they took, written with each batch.
    rows_done = models.PositiveIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    opted_out = models.PositiveIntegerField(default=0)
    # Why it stopped, when it did.
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ContactImportStatus.DONE, ContactImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ContactImportStatus.DONE:
            return 100
        if not self.size:
            return 0
        return min(99, 100 * self.bytes_done // self.size)


class ContactImportProblem(models.Model):
    """One reason a row of an import was skipped: the error report's lines."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="problems"
    )
    # The row as a spreadsheet numbers it: the header is row 1.
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    reason = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["contact_import", "row"], name="contact_import_problem_row")
        ]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ContactExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Writing"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ContactExport(models.Model):
    """A CSV file of contacts being written in the background: those the contacts table showed
    its requester (`query`, the table's query string) with every field, kept in the storage
    (`stored_name`) for them to download."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_exports"
    )
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    query = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ContactExportStatus.choices, default=ContactExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    stored_name = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"contacts export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ContactExportStatus.DONE:
            return 100
        return min(99, self.rows_done * 100 // self.total) if self.total else 0
