"""Django's PostgreSQL backend, with pooled connections a database restart broke replaced at once
(`base.DatabaseWrapper`)."""
