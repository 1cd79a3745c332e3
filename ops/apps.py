from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "운영"

    def ready(self):
        from django.db.backends.signals import connection_created

        from ops.pool import install_sweeping_check

        # The pool's health check also sweeps the pool when it finds a dead connection
        # (ops/pool.py: without it, a request after a database restart can fail).
        connection_created.connect(install_sweeping_check, dispatch_uid="ops.pool.sweeping_check")
