"""The story admin, whole: the form, the list with its states, the roles checked on every view
and action, the publishing actions, the TheTeams import page, and (from story_pages.py) the
version history and preview links under each story.

Every save goes through the one door, articles.services.save_story(): the admin only says who
saves and what relations the form set. Every rule is checked on the server for the object at
hand (articles/roles.py); buttons are hidden only as a courtesy.
"""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple, FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from articles.images import UPLOAD_FORMFIELDS
from articles.importing import import_dump
from articles.models import Article, ArticleTag, Kind, State, Status, Tag, by_views
from articles.revisions import edit_conflict
from articles.roles import can_edit, can_publish, stories_for
from articles.services import RELATIONS, delete_stories, save_story
from articles.theteams import DumpError
from editorial.admin.preview import markdown_preview
from editorial.admin.stats import StatsPages
from editorial.admin.story_pages import StoryPages

IMPORT_MAX_BYTES = 2 * 1024 * 1024
# What a writer sees but may not set: when a story goes out, and whether it leads the home page.
PUBLISHING_FIELDS = ["published_at", "unpublish_at", "is_featured"]
# What the publishing actions change.
PUBLICATION = ["status", "published_at", "unpublish_at"]

User = get_user_model()


class TextareaField(forms.CharField):
    """Browsers send a textarea's line breaks as CRLF. Stored as LF, so saving a form with an
    untouched body or excerpt changes nothing (no spurious revision, diff or change message)."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class OrderedTagsField(forms.ModelMultipleChoiceField):
    """The story's hashtags in the order they were picked (the order readers see): the
    relation has an order of its own (ArticleTag.position), which the admin's plain field for
    a relation cannot show, so the form carries the tags here and the save sets them."""

    def clean(self, value):
        chosen = {str(tag.pk): tag for tag in super().clean(value)}
        return list({key: chosen[key] for key in map(str, value or []) if key in chosen}.values())


class ArticleAdminForm(forms.ModelForm):
    """The story's own rules (Article.clean(), its validators and constraints) run in the
    ModelForm's model validation; this form adds what only a form knows: the version it was
    opened at, and times shown to the second."""

    # The version the editor started from, rendered as a hidden input (change_form.html):
    # saving over a newer version is refused instead of silently overwriting it.
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    hashtags = OrderedTagsField(
        label="해시태그",
        queryset=Tag.objects.all(),
        required=False,
        widget=AutocompleteSelectMultiple(Article._meta.get_field("tags"), admin.site),
        help_text="고른 순서대로 스토리에 보입니다.",
    )

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
        # static/js/markdown-preview.js draws the live preview beside the body from here
        # (when the body is editable: a story the user may only look at has no body field).
        if "body" in self.fields:
            self.fields["body"].widget.attrs["data-preview-url"] = reverse(
                "admin:articles_article_markdown_preview"
            )
        if self.instance.pk is not None:
            self.fields["base_version"].initial = self.instance.version
            self.fields["hashtags"].initial = [tag.pk for tag in self.instance.ordered_tags()]
            # The widget lists the chosen tags in the queryset's order: the story's own order.
            position = ArticleTag.objects.filter(article=self.instance, tag=OuterRef("pk"))
            self.fields["hashtags"].queryset = Tag.objects.annotate(
                position=Subquery(position.values("position")[:1])
            ).order_by(F("position").asc(nulls_last=True), "name")

    def clean(self):
        cleaned = super().clean()
        for name in ("published_at", "unpublish_at"):
            # The form shows whole seconds: a time the editor left alone stays exactly as it
            # was, instead of losing its microseconds and reading as a new publication.
            stored, given = getattr(self.instance, name), cleaned.get(name)
            if stored and given and given == stored.replace(microsecond=0):
                cleaned[name] = stored
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
    """The five states editors speak of (articles/models/states.py), decided at query time: a
    scheduled story moves to 발행 by itself."""

    title = "상태"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return State.choices

    def queryset(self, request, queryset):
        if self.value() in State.values:
            return queryset.in_state(State(self.value()))
        return queryset


def story_action(description, change, note, fields, done, *, editors_only=False):
    """A bulk action of the story list: `change(article)` on each selected story the user
    may change, each saved through the door (ArticleAdmin.change_stories). Publishing actions
    (`editors_only`) are offered to editors only and checked again against a crafted POST."""

    @admin.action(description=description, permissions=["publish" if editors_only else "change"])
    def action(model_admin, request, queryset):
        if editors_only:
            allowed, permission = model_admin.has_publish_permission(request), editor_only
        else:
            allowed, permission = model_admin.has_change_permission(request), can_edit
        if not allowed:
            raise PermissionDenied
        count = model_admin.change_stories(
            request, queryset, change, note, fields, permission=permission
        )
        model_admin.message_user(request, f"스토리 {count}개를 {done}.", messages.SUCCESS)

    return action


@admin.register(Article)
class ArticleAdmin(StatsPages, StoryPages, admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = [
        "title",
        "kind",
        "company",
        "state_label",
        "published_when",
        "view_count",
        "updated_when",
    ]
    list_display_links = ["title"]
    list_filter = ["kind", StateFilter, "job_family", "is_featured", "company", "published_at"]
    list_select_related = ["company", "view_total"]
    search_fields = ["title", "excerpt", "body", "company__name", "tags__name", "people__name"]
    search_help_text = "제목, 요약, 본문, 회사, 해시태그, 인물 이름으로 찾습니다."
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["company", "people", "series", "authors"]
    readonly_fields = ["view_count", "reading_minutes", "version", "created_at", "updated_at"]
    actions = ["submit_for_review", "publish_now", "unpublish_now", "move_to_draft"]
    formfield_overrides = UPLOAD_FORMFIELDS
    list_per_page = 50
    save_on_top = True

    class Media:
        js = ["js/markdown-preview.js"]

    fieldsets = [
        (None, {"fields": ["kind", "title", "slug", "excerpt", "body"]}),
        ("회사와 사람", {"fields": ["company", "people", "authors", "byline"]}),
        ("분류", {"fields": ["hashtags", "job_family", "series", "series_part"]}),
        ("발행", {"fields": ["status", "published_at", "unpublish_at", "is_featured"]}),
        ("커버 이미지", {"fields": ["cover_image", "cover_alt", "cover_credit", "cover_focus"]}),
        ("검색과 공유", {"fields": ["meta_description", "original_url", "original_published_on"]}),
        (
            "통계",
            {"fields": ["view_count", "reading_minutes", "version", "created_at", "updated_at"]},
        ),
    ]

    # --- Roles ------------------------------------------------------------------------------

    @admin.display(description="조회수", ordering=by_views())
    def view_count(self, obj):
        return obj.view_count

    def get_queryset(self, request):
        return stories_for(request.user, super().get_queryset(request).with_state())

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_edit(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or can_edit(request.user, obj))

    def has_publish_permission(self, request, obj=None):
        """Actions declared with permissions=["publish"] call this."""
        return can_publish(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            fields += [name for name in PUBLISHING_FIELDS if name not in fields]
        return fields

    def get_autocomplete_fields(self, request):
        # Searching users goes through the user admin, which only admins may open: authors
        # are picked from a list of the staff instead.
        return [name for name in super().get_autocomplete_fields(request) if name != "authors"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "authors":
            kwargs.setdefault(
                "queryset",
                User.objects.filter(Q(is_staff=True) | Q(articles__isnull=False))
                .distinct()
                .order_by("username"),
            )
            kwargs.setdefault(
                "widget", FilteredSelectMultiple(db_field.verbose_name, is_stacked=False)
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status" and not can_publish(request.user):
            # A writer's form knows only these two: "published" in a crafted POST is an
            # invalid choice, not a publication.
            kwargs["choices"] = [(s.value, s.label) for s in (Status.DRAFT, Status.REVIEW)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # --- Saving: through the one door ---------------------------------------------------------

    def save_model(self, request, obj, form, change):
        """The story is saved with its relations in save_related(), through the door."""
        if not change and obj.created_by_id is None:
            obj.created_by = request.user

    def save_related(self, request, form, formsets, change):
        relations = {
            name: form.cleaned_data[name] for name in RELATIONS if name in form.cleaned_data
        }
        if "hashtags" in form.cleaned_data:
            relations["tags"] = form.cleaned_data["hashtags"]
        # The ModelForm has just run Article.full_clean() with the same rules.
        save_story(
            form.instance,
            by=request.user,
            note="" if change else "처음 저장",
            validate=False,
            **relations,
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        delete_stories([obj])

    def delete_queryset(self, request, queryset):
        delete_stories(list(queryset))

    def change_stories(self, request, queryset, change, note, fields, *, permission=can_edit):
        """Apply `change(article)` (which says whether it changed the story's `fields`) to each
        selected story the user may change, saving each through the door with `note` as its
        revision note and history line (unless its publication changed: the line says how).
        Returns how many stories changed."""
        done = refused = 0
        with transaction.atomic():
            # The changelist's queryset may be DISTINCT (a search across tags), which FOR UPDATE
            # refuses: lock the same rows by primary key.
            rows = Article.objects.filter(pk__in=queryset.values("pk"))
            for article in rows.select_for_update(of=("self",), no_key=True).order_by("pk"):
                if not permission(request.user, article):
                    refused += 1
                    continue
                if not change(article):
                    continue
                save_story(article, by=request.user, note=note, audit=note, fields=fields)
                done += 1
        if refused:
            self.message_user(
                request,
                f"권한이 없는 스토리 {refused}개는 건너뛰었습니다.",
                messages.WARNING,
            )
        return done

    # --- Actions ---------------------------------------------------------------------------

    submit_for_review = story_action(
        "검토 요청하기", Article.submit_for_review, "검토 요청", ["status"], "검토 요청했습니다"
    )
    publish_now = story_action(
        "지금 발행하기", Article.publish, "발행", PUBLICATION, "발행했습니다", editors_only=True
    )
    unpublish_now = story_action(
        "지금 내리기", Article.unpublish, "발행 취소", PUBLICATION, "내렸습니다", editors_only=True
    )
    move_to_draft = story_action(
        "초안으로 돌리기",
        Article.move_to_draft,
        "초안으로 돌림",
        ["status"],
        "초안으로 돌렸습니다",
        editors_only=True,
    )

    # --- The list ---------------------------------------------------------------------------

    @admin.display(description="상태", ordering="state_now")
    def state_label(self, obj):
        """초안, 검토 중, 예약 (when), 발행 (until when), 내림 (since when), in Seoul time."""
        state = obj.state
        when = None
        if state == State.SCHEDULED:
            when = obj.published_at
        elif state in (State.PUBLISHED, State.UNPUBLISHED):
            when = obj.unpublish_at
        if when is None:
            return state.label
        moment = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
        if state == State.PUBLISHED:
            return format_html("{} <small>({}에 내림)</small>", state.label, moment)
        return format_html("{} <small>({})</small>", state.label, moment)

    # Dates on two short lines (day, then time, Seoul), so the list fits beside the filters.
    @admin.display(description="발행 시각", ordering="published_at", empty_value="—")
    def published_when(self, obj):
        return short_moment(obj.published_at)

    @admin.display(description="고친 때", ordering="updated_at")
    def updated_when(self, obj):
        return short_moment(obj.updated_at)

    # --- The TheTeams import ------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "markdown-preview/",
                self.admin_site.admin_view(self.markdown_preview_view),
                name="articles_article_markdown_preview",
            ),
            path(
                "import-theteams/",
                self.admin_site.admin_view(self.import_theteams_view),
                name="articles_article_import_theteams",
            ),
            *super().get_urls(),
        ]

    def markdown_preview_view(self, request):
        return markdown_preview(
            request,
            lambda request: self.has_add_permission(request) or self.has_change_permission(request),
        )

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
                report = import_dump(
                    form.cleaned_data["data"], dry_run=not confirmed, by=request.user, **options
                )
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


def short_moment(when):
    if when is None:
        return None
    local = timezone.localtime(when)
    return format_html(
        '<time datetime="{}">{}<br><small>{}</small></time>',
        local.isoformat(),
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M"),
    )


def editor_only(user, article):
    return can_publish(user)
