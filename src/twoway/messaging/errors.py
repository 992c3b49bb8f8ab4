"""How processing a carrier's event can fail short of a crash: the host of carrier events keeps
the event and either tries it again soon or marks it failed."""


class RetryLater(Exception):
    """Not processable yet (a delivery report for a send whose carrier id is not recorded yet)."""


class Unprocessable(Exception):
    """The event can never be processed (an unknown number): recorded and left."""
