"""The editors' side: the Django admin, in Korean, for every content model."""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify

from articles.images import UPLOAD_FORMFIELDS
from articles.importing import import_dump
from articles.models import (
    Article,
    Collection,
    CollectionItem,
    Company,
    DailyView,
    Kind,
    Person,
    Series,
    Status,
    Tag,
    unique_slug,
)
from articles.rendering import check_body_length
from articles.revisions import edit_conflict
from articles.roles import can_publish
from articles.search import index_article
from articles.theteams import DumpError
from editorial.admin import EditorialArticleAdmin, KeepsStoriesAdmin

IMPORT_MAX_BYTES = 2 * 1024 * 1024

admin.site.site_header = "컬처 스토리 편집실"
admin.site.site_title = "컬처 스토리 편집실"
admin.site.index_title = "편집"


class TextareaField(forms.CharField):
    """Browsers send a textarea's line breaks as CRLF. Stored as LF, so saving a form with an
    untouched body or excerpt changes nothing (no spurious revision, diff or change message)."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class ArticleAdminForm(forms.ModelForm):
    # The version the editor started from, rendered as a hidden input (change_form.html):
    # saving over a newer version is refused instead of silently overwriting it.
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    class Meta:
        model = Article
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown
        widgets = {
            "body": forms.Textarea(attrs={"rows": 30, "class": "vLargeTextField"}),
            "excerpt": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"body": TextareaField, "excerpt": TextareaField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["base_version"].initial = self.instance.version

    def clean_body(self):
        body = self.cleaned_data["body"]
        check_body_length(body)
        return body

    def clean_slug(self):
        """A slug the title produced by itself never blocks a save: two stories with the same
        title get "제목" and "제목-2". A slug an editor typed must be free."""
        slug = self.cleaned_data.get("slug", "")
        title = self.cleaned_data.get("title", "")
        exclude_pk = self.instance.pk
        if not slug or slug == slugify(title, allow_unicode=True):
            return unique_slug(Article, slug or title, fallback="story", exclude_pk=exclude_pk)
        if Article.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
            raise forms.ValidationError(
                "이 슬러그는 다른 스토리가 쓰고 있습니다. 다른 슬러그를 적어 주세요."
            )
        return slug

    def clean(self):
        cleaned = super().clean()
        for name in ("published_at", "unpublish_at"):
            # The form shows whole seconds: a time the editor left alone stays exactly as it
            # was, instead of losing its microseconds and reading as a new publication.
            stored, given = getattr(self.instance, name), cleaned.get(name)
            if stored and given and given == stored.replace(microsecond=0):
                cleaned[name] = stored
        status = cleaned.get("status")
        published_at = cleaned.get("published_at")
        unpublish_at = cleaned.get("unpublish_at")
        if unpublish_at and published_at and unpublish_at <= published_at:
            self.add_error("unpublish_at", "내릴 시각은 발행 시각보다 뒤여야 합니다.")
        elif (
            status == Status.PUBLISHED
            and unpublish_at
            and unpublish_at <= timezone.now()
            and {"status", "unpublish_at"} & set(self.changed_data)
        ):
            # Saved as it is, the story would stay withdrawn although the editor meant to
            # publish it: say so instead of reporting a success that changes nothing.
            self.add_error(
                "unpublish_at",
                "내릴 시각이 이미 지나서 발행해도 독자에게 보이지 않습니다. "
                "내릴 시각을 비우거나 앞으로의 시각으로 고쳐 주세요.",
            )
        if status == Status.PUBLISHED and not published_at:
            cleaned["published_at"] = timezone.now()
        if cleaned.get("series_part") and not cleaned.get("series"):
            self.add_error("series_part", "시리즈 순서는 시리즈를 고른 뒤에 적습니다.")
        if self.instance.pk is not None:
            # Runs inside the admin's transaction: the row stays locked until the save.
            conflict = edit_conflict(self.instance.pk, cleaned.get("base_version"))
            if conflict:
                self.add_error(None, forms.ValidationError(conflict, code="edit_conflict"))
        return cleaned


class TheTeamsImportForm(forms.Form):
    """Step one uploads a dump; step two confirms the previewed import. The dump travels from
    one step to the next in a hidden field, so nothing is stored between them."""

    file = forms.FileField(label="더팀스 페이지 텍스트 파일", required=False)
    dump = forms.CharField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(
        label="종류",
        choices=[("", "본문을 보고 추정"), *Kind.choices],
        required=False,
    )
    draft = forms.BooleanField(label="발행하지 않고 초안으로 가져오기", required=False)

    def clean(self):
        cleaned = super().clean()
        if self.has_error("file"):  # an empty or unreadable upload: its own message says so
            return cleaned
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > IMPORT_MAX_BYTES:
                raise forms.ValidationError("파일이 너무 큽니다. 2 MB 이하의 파일을 올려 주세요.")
            cleaned["data"] = upload.read()
        elif cleaned.get("dump"):
            try:
                cleaned["data"] = base64.b64decode(cleaned["dump"], validate=True)
            except (binascii.Error, ValueError):
                raise forms.ValidationError(
                    "미리보기 내용이 손상되었습니다. 파일을 다시 올려 주세요."
                ) from None
        else:
            raise forms.ValidationError("가져올 파일을 골라 주세요.")
        cleaned["dump"] = base64.b64encode(cleaned["data"]).decode()
        return cleaned


class StateFilter(admin.SimpleListFilter):
    """The five states editors speak of, decided at query time like Article.state and
    ArticleQuerySet.published(): a scheduled story moves to 발행 by itself."""

    title = "상태"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", "초안"),
            ("review", "검토 중"),
            ("scheduled", "예약"),
            ("published", "발행"),
            ("unpublished", "내림"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value in (Status.DRAFT, Status.REVIEW):
            return queryset.filter(status=value)
        if value == "scheduled":
            return queryset.filter(status=Status.PUBLISHED, published_at__gt=now)
        if value == "published":
            return queryset.published(now)
        if value == "unpublished":
            return queryset.filter(Q(unpublish_at__lte=now), status=Status.PUBLISHED)
        return queryset


@admin.register(Article)
class ArticleAdmin(EditorialArticleAdmin, admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = [
        "title",
        "kind",
        "company",
        "state_label",
        "published_at",
        "view_count",
        "updated_at",
    ]
    list_display_links = ["title"]
    list_filter = ["kind", StateFilter, "job_family", "is_featured", "company", "published_at"]
    list_select_related = ["company"]
    search_fields = ["title", "excerpt", "body", "company__name", "tags__name", "people__name"]
    search_help_text = "제목, 요약, 본문, 회사, 해시태그, 인물 이름으로 찾습니다."
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["company", "people", "tags", "series", "authors"]
    readonly_fields = ["view_count", "reading_minutes", "version", "created_at", "updated_at"]
    actions = ["submit_for_review", "publish_now", "unpublish_now", "move_to_draft"]
    formfield_overrides = UPLOAD_FORMFIELDS
    list_per_page = 50
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["kind", "title", "slug", "excerpt", "body"]}),
        ("회사와 사람", {"fields": ["company", "people", "authors", "byline"]}),
        ("분류", {"fields": ["tags", "job_family", "series", "series_part"]}),
        ("발행", {"fields": ["status", "published_at", "unpublish_at", "is_featured"]}),
        ("커버 이미지", {"fields": ["cover_image", "cover_alt", "cover_credit"]}),
        ("검색과 공유", {"fields": ["meta_description", "original_url"]}),
        (
            "통계",
            {"fields": ["view_count", "reading_minutes", "version", "created_at", "updated_at"]},
        ),
    ]

    def get_urls(self):
        return [
            path(
                "import-theteams/",
                self.admin_site.admin_view(self.import_theteams_view),
                name="articles_article_import_theteams",
            ),
            *super().get_urls(),
        ]

    def import_theteams_view(self, request):
        # An import publishes what it brings in: editors only.
        if not (
            self.has_add_permission(request)
            and self.has_change_permission(request)
            and can_publish(request.user)
        ):
            raise PermissionDenied
        form = TheTeamsImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            options = {
                "kind": form.cleaned_data["kind"] or None,
                "status": Status.DRAFT if form.cleaned_data["draft"] else Status.PUBLISHED,
            }
            confirmed = "confirm" in request.POST
            try:
                report = import_dump(form.cleaned_data["data"], dry_run=not confirmed, **options)
            except DumpError as error:
                form.add_error(None, f"가져올 수 없습니다: {error} 아무것도 쓰지 않았습니다.")
            else:
                if confirmed:
                    self.message_user(
                        request,
                        f"더팀스에서 스토리 {len(report.stories)}개를 가져왔습니다: {report.totals}",
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:articles_article_changelist"))
                form = TheTeamsImportForm(
                    initial={
                        "dump": form.cleaned_data["dump"],
                        "kind": form.cleaned_data["kind"],
                        "draft": form.cleaned_data["draft"],
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "더팀스에서 스토리 가져오기",
            "opts": self.model._meta,
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/articles/article/import_theteams.html", context)

    @admin.display(description="상태", ordering="status")
    def state_label(self, obj):
        """초안, 검토 중, 예약 (when), 발행 (until when), 내림 (since when), in Seoul time."""
        state = obj.state
        if state == "예약":
            when = timezone.localtime(obj.published_at)
            return format_html("예약 <small>({})</small>", when.strftime("%Y-%m-%d %H:%M"))
        if state == "내림":
            when = timezone.localtime(obj.unpublish_at)
            return format_html("내림 <small>({})</small>", when.strftime("%Y-%m-%d %H:%M"))
        if state == "발행" and obj.unpublish_at is not None:
            when = timezone.localtime(obj.unpublish_at)
            return format_html("발행 <small>({}에 내림)</small>", when.strftime("%Y-%m-%d %H:%M"))
        return state

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Tags, people and the company's name are searched too: index once they are saved.
        index_article(form.instance)

    # Publishing actions: offered only to editors (permissions=["publish"] asks
    # has_publish_permission), and checked again here against a crafted POST. Each story is
    # saved as a revision and audited ("발행", "발행 취소") by change_stories().

    @admin.action(description="지금 발행하기", permissions=["publish"])
    def publish_now(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        now = timezone.now()

        def publish(article):
            if article.is_public:
                return None
            article.status = Status.PUBLISHED
            if article.published_at is None or article.published_at > now:
                article.published_at = now
            if article.unpublish_at is not None and article.unpublish_at <= now:
                article.unpublish_at = None
            return ["status", "published_at", "unpublish_at"]

        count = self.change_stories(request, queryset, publish, "발행", permission=editor_only)
        self.message_user(request, f"스토리 {count}개를 발행했습니다.", messages.SUCCESS)

    @admin.action(description="지금 내리기", permissions=["publish"])
    def unpublish_now(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        now = timezone.now()

        def unpublish(article):
            if not article.is_public:
                return None
            article.unpublish_at = now
            return ["unpublish_at"]

        count = self.change_stories(
            request, queryset, unpublish, "발행 취소", permission=editor_only
        )
        self.message_user(request, f"스토리 {count}개를 내렸습니다.", messages.SUCCESS)

    @admin.action(description="초안으로 돌리기", permissions=["publish"])
    def move_to_draft(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied

        def to_draft(article):
            if article.status == Status.DRAFT:
                return None
            article.status = Status.DRAFT
            return ["status"]

        count = self.change_stories(
            request, queryset, to_draft, "초안으로 돌림", permission=editor_only
        )
        self.message_user(request, f"스토리 {count}개를 초안으로 돌렸습니다.", messages.SUCCESS)


def editor_only(user, article):
    return can_publish(user)


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
