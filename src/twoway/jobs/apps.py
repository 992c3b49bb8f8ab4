from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "twoway.jobs"
    verbose_name = "Background jobs"
