from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete, pre_save


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "스토리 허브"

    def ready(self):
        """Stories are written through one door (articles/services.py), which drops the cached
        pages and re-indexes search itself. What stories show of companies, people, tags,
        series and collections changes outside it, wherever those are edited (their admin
        pages, the shell, a fixture): for them, and only them, receivers do the same."""
        from articles import pictures, search, sharecards, tally, uploads, versions
        from articles.models import Collection, CollectionItem, Company, Person, Series, Tag

        # Kept answers are derived data: any change to what a page shows moves the version.
        for model in (Company, Person, Tag, Series, Collection, CollectionItem):
            post_save.connect(versions.bump, sender=model, dispatch_uid=f"pages-{model}")
            post_delete.connect(versions.bump, sender=model, dispatch_uid=f"pages-del-{model}")

        # A logo or photo replaced, cleared or deleted with its row leaves the storage once
        # the transaction commits, and a new one gets its renditions then (stories' covers:
        # articles/services.py).
        for model in (Company, Person):
            label = model.__name__
            post_save.connect(pictures.saved, sender=model, dispatch_uid=f"renditions-{model}")
            pre_save.connect(uploads.remember_stored, sender=model, dispatch_uid=f"pics-{label}")
            post_save.connect(
                uploads.discard_after_save, sender=model, dispatch_uid=f"pics+{label}"
            )
            post_delete.connect(
                uploads.discard_after_delete, sender=model, dispatch_uid=f"pics-del-{label}"
            )

        # A story's search document holds its company's, people's and tags' names.
        for model in (Company, Person, Tag):
            pre_save.connect(search.remember_names, sender=model, dispatch_uid=f"names-{model}")
            post_save.connect(search.reindex_renamed, sender=model, dispatch_uid=f"rename-{model}")
        for model in (Person, Tag):
            pre_delete.connect(
                search.remember_stories, sender=model, dispatch_uid=f"search-del-{model}"
            )
            post_delete.connect(
                search.reindex_after_delete, sender=model, dispatch_uid=f"search-deleted-{model}"
            )

        # A SQLite table rebuilt by a migration loses its triggers: the published tally's are
        # put back (and the stories counted again) after every migrate and flush.
        post_migrate.connect(tally.ensured, sender=self, dispatch_uid="published-tally")

        checks.register(sharecards.check_font)
