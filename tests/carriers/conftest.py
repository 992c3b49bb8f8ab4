import pytest


@pytest.fixture
def asgi_application(monkeypatch):
    """The ASGI application, imported without leaving its web-server environment to the
    processes later tests start."""
    monkeypatch.setenv("TWOWAY_CONN_MAX_AGE", "0")
    from twoway.asgi import application, webhook_application

    yield application
    # The test database is dropped at the end: the recorder's thread must not hold it open.
    webhook_application.recorder.release()
