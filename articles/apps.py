from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "스토리 허브"

    def ready(self):
        from articles import pagecache
        from articles.models import (
            Article,
            Collection,
            CollectionItem,
            Company,
            Person,
            Series,
            Tag,
        )

        # Cached pages are derived data: any change to what a page shows drops them all.
        for model in (Article, Company, Person, Tag, Series, Collection, CollectionItem):
            post_save.connect(
                pagecache.content_changed, sender=model, dispatch_uid=f"pages-{model}"
            )
            post_delete.connect(
                pagecache.content_changed, sender=model, dispatch_uid=f"pages-del-{model}"
            )
        for relation in (Article.tags, Article.people, Article.authors):
            m2m_changed.connect(
                pagecache.content_changed,
                sender=relation.through,
                dispatch_uid=f"pages-m2m-{relation.field.name}",
            )
