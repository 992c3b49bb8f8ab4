"""The consent ledger's CSV under the ASGI server: sent a batch at a time as it is read, not
read whole first (Django would read a synchronous iterator whole before sending a byte)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from twoway.accounts.models import Membership
from twoway.compliance import selectors
from twoway.compliance.models import ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.models import Contact

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
async def _close_stream_connections() -> AsyncIterator[None]:
    # The export reads through sync_to_async's thread; PostgreSQL must be able to drop the
    # test database afterwards.
    yield
    await sync_to_async(connections.close_all)()


def _five_entries(admin: Membership) -> None:
    contact = Contact.objects.create(organization_id=admin.organization_id, name="Ann Lee")
    for n in range(5):
        consent_record(
            organization_id=admin.organization_id,
            contact_id=contact.pk,
            kind=ConsentEventKind.OPT_OUT,
            source="keyword",
            text=f"STOP {n}",
        )


async def test_the_export_is_sent_batch_by_batch(
    admin: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "EXPORT_BATCH", 2)
    await sync_to_async(_five_entries)(admin)
    client = AsyncClient()
    await sync_to_async(client.force_login)(admin.user)
    response = await client.get("/settings/consent-ledger/export.csv")
    assert response.status_code == 200 and response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    # The header, then the batches of 2, 2 and 1 entries, each its own chunk.
    assert len(chunks) == 4
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [row[6] for row in rows[1:]] == [f"STOP {n}" for n in (4, 3, 2, 1, 0)]
