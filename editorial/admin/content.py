"""The admin of what stories are about and of how they are arranged: companies, people,
hashtags, series, collections, and the day counts of views (read only)."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from articles.images import UPLOAD_FORMFIELDS
from articles.models import (
    Article,
    Collection,
    CollectionItem,
    Company,
    DailyView,
    Person,
    Series,
    Tag,
)


class KeepsStoriesAdmin:
    """Deleting something that stories name (a person featured in them) is refused, listing the
    stories, the way Django lists the rows a PROTECT foreign key keeps (a company's stories)."""

    story_lookup = "people"

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        stories = Article.objects.filter(
            **{f"{self.story_lookup}__in": [obj.pk for obj in objs]}
        ).distinct()
        label = capfirst(Article._meta.verbose_name)
        for story in stories.order_by("pk")[:100]:
            url = reverse("admin:articles_article_change", args=[story.pk])
            protected.append(format_html('{}: <a href="{}">{}</a>', label, url, story))
        return to_delete, model_count, perms_needed, protected


class StoryCountMixin:
    """Show how many stories each row has, counted in the changelist's one query."""

    def get_queryset(self, request):
        # Meta.ordering is dropped from GROUP BY queries, so it is restated here.
        queryset = super().get_queryset(request)
        return queryset.annotate(story_count=Count("articles", distinct=True)).order_by(
            *queryset.model._meta.ordering
        )

    @admin.display(description="스토리 수", ordering="story_count")
    def story_count(self, obj):
        return obj.story_count


@admin.register(Company)
class CompanyAdmin(StoryCountMixin, admin.ModelAdmin):
    formfield_overrides = UPLOAD_FORMFIELDS
    list_display = ["name", "slug", "location", "size", "story_count", "hiring_link"]
    list_filter = ["location", "size"]
    search_fields = ["name", "one_liner", "tech_stack"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="채용 페이지")
    def hiring_link(self, obj):
        if not obj.hiring_url:
            return "-"
        return format_html('<a href="{}" rel="noopener" target="_blank">열기</a>', obj.hiring_url)


@admin.register(Person)
class PersonAdmin(KeepsStoriesAdmin, StoryCountMixin, admin.ModelAdmin):
    formfield_overrides = UPLOAD_FORMFIELDS
    list_display = ["name", "nickname", "company", "role", "team", "story_count"]
    list_filter = ["company"]
    list_select_related = ["company"]
    search_fields = ["name", "nickname", "role", "team", "company__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["company"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Tag)
class TagAdmin(StoryCountMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "story_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Series)
class SeriesAdmin(StoryCountMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "story_count", "created_at"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    extra = 1
    autocomplete_fields = ["article"]
    fields = ["position", "article"]
    ordering = ["position", "id"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["title", "position", "show_on_home", "starts_at", "ends_at", "item_count"]
    list_editable = ["position", "show_on_home"]
    list_filter = ["show_on_home"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CollectionItemInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(item_total=Count("items"))
            .order_by("position", "id")
        )

    @admin.display(description="스토리 수", ordering="item_total")
    def item_count(self, obj):
        return obj.item_total


@admin.register(DailyView)
class DailyViewAdmin(admin.ModelAdmin):
    list_display = ["day", "article", "count"]
    list_filter = ["day"]
    list_select_related = ["article"]
    search_fields = ["article__title"]
    date_hierarchy = "day"
    readonly_fields = ["article", "day", "count"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
