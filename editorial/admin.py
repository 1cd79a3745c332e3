"""The editorial workflow in the admin: roles enforced on every story view and action, version
history with compare and restore, preview links, and protection for what stories refer to.

ArticleAdmin (articles/admin.py) mixes in EditorialArticleAdmin. Every rule is checked on the
server for the object at hand; buttons are hidden only as a courtesy.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from articles.models import PREVIEW_DAYS, PREVIEW_MAX_DAYS, Article, PreviewLink, Revision, Status
from articles.revisions import (
    ensure_baseline,
    log_change,
    publication_message,
    publication_state,
    record_revision,
    restore_revision,
)
from articles.roles import can_edit, can_publish, role_label, stories_for
from editorial.compare import compare

# What a writer sees but may not set: when a story goes out, and whether it leads the home page.
PUBLISHING_FIELDS = ["published_at", "unpublish_at", "is_featured"]
NEW_PREVIEW_SESSION_KEY = "editorial:new-preview-url"

User = get_user_model()


class PreviewLinkForm(forms.Form):
    days = forms.IntegerField(
        label="열어 둘 기간(일)", min_value=1, max_value=PREVIEW_MAX_DAYS, initial=PREVIEW_DAYS
    )


class EditorialArticleAdmin:
    """Roles, revisions, preview links and the audit for the story admin."""

    # --- Roles ------------------------------------------------------------------------------

    def get_queryset(self, request):
        return stories_for(request.user, super().get_queryset(request))

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

    # --- Saving: revisions and audit ---------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            ensure_baseline(obj.pk)
            stored = Article.objects.get(pk=obj.pk)
            obj._publication_before = publication_state(stored)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        record_revision(article, request.user, note="" if change else "처음 저장")
        message = publication_message(getattr(article, "_publication_before", None), article)
        if message:
            log_change(request.user, article, message)

    def change_stories(self, request, queryset, change, note, *, permission=can_edit):
        """Apply `change(article)` (which returns the fields it set, or nothing to skip the
        story) to each selected story the user may change, saving each as a revision with an
        audit line. Returns how many stories changed and how many were refused."""
        done = refused = 0
        with transaction.atomic():
            # The changelist's queryset may be DISTINCT (a search across tags), which FOR UPDATE
            # refuses: lock the same rows by primary key.
            rows = Article.objects.filter(pk__in=queryset.values("pk"))
            for article in rows.select_for_update(of=("self",)).order_by("pk"):
                if not permission(request.user, article):
                    refused += 1
                    continue
                before = publication_state(article)
                ensure_baseline(article.pk)
                fields = change(article)
                if not fields:
                    continue
                article.save(update_fields=fields)
                record_revision(article, request.user, note=note)
                log_change(request.user, article, publication_message(before, article) or note)
                done += 1
        if refused:
            self.message_user(
                request,
                f"권한이 없는 스토리 {refused}개는 건너뛰었습니다.",
                messages.WARNING,
            )
        return done

    @admin.action(description="검토 요청하기", permissions=["change"])
    def submit_for_review(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied

        def to_review(article):
            if article.status == Status.DRAFT:
                article.status = Status.REVIEW
                return ["status"]
            return None

        count = self.change_stories(request, queryset, to_review, "검토 요청")
        self.message_user(request, f"스토리 {count}개를 검토 요청했습니다.", messages.SUCCESS)

    # --- Pages under a story -----------------------------------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/revisions/",
                wrap(self.revisions_view),
                name=f"{info}_revisions",
            ),
            path(
                "<path:object_id>/revisions/compare/",
                wrap(self.compare_view),
                name=f"{info}_compare",
            ),
            path(
                "<path:object_id>/revisions/<int:number>/restore/",
                wrap(self.restore_view),
                name=f"{info}_restore",
            ),
            path(
                "<path:object_id>/preview-links/",
                wrap(self.preview_links_view),
                name=f"{info}_preview_links",
            ),
            path(
                "<path:object_id>/preview-links/<int:link_id>/revoke/",
                wrap(self.revoke_preview_view),
                name=f"{info}_revoke_preview",
            ),
            *super().get_urls(),
        ]

    def url_name(self, name: str) -> str:
        """The admin URL name of one of this story admin's pages ("revisions", "change")."""
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}"

    def story_or_404(self, request, object_id):
        """The story, if this user may at least see it in the admin (writers: their own)."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("스토리가 없습니다.")
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return article

    def page_context(self, request, article, title):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(article),
            "opts": self.opts,
            "original": article,
            # Restoring, and making or revoking preview links, all change the story.
            "can_change": self.has_change_permission(request, article),
        }

    def revisions_view(self, request, object_id):
        article = self.story_or_404(request, object_id)
        revisions = list(article.revisions.select_related("author").order_by("-number"))
        context = {
            **self.page_context(request, article, "버전 기록"),
            "revisions": revisions,
        }
        return TemplateResponse(request, "admin/editorial/revisions.html", context)

    def compare_view(self, request, object_id):
        article = self.story_or_404(request, object_id)
        try:
            numbers = sorted({int(request.GET["a"]), int(request.GET["b"])})
        except (KeyError, ValueError):
            messages.warning(request, "비교할 두 버전을 고르세요.")
            return redirect(self.url_name("revisions"), article.pk)
        found = {r.number: r for r in article.revisions.filter(number__in=numbers)}
        if len(found) != len(numbers) or len(numbers) != 2:
            messages.warning(request, "서로 다른 두 버전을 고르세요.")
            return redirect(self.url_name("revisions"), article.pk)
        older, newer = found[numbers[0]], found[numbers[1]]
        changes, body = compare(older, newer)
        context = {
            **self.page_context(request, article, f"{older.number}번과 {newer.number}번 비교"),
            "older": older,
            "newer": newer,
            "changes": changes,
            "body_diff": body,
            # The version the story is at now has nothing to restore.
            "restorable": [r for r in (older, newer) if r.article_version != article.version],
        }
        return TemplateResponse(request, "admin/editorial/compare.html", context)

    def restore_view(self, request, object_id, number):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        article = self.story_or_404(request, object_id)
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        revision = get_object_or_404(Revision, article=article, number=number)
        restored = restore_revision(revision, request.user)
        self.message_user(
            request,
            f"{revision.number}번 버전으로 복원했습니다. 복원한 내용은 {restored.number}번 버전입니다. "
            "발행 상태와 시각은 그대로입니다.",
            messages.SUCCESS,
        )
        return redirect(self.url_name("change"), article.pk)

    def preview_links_view(self, request, object_id):
        article = self.story_or_404(request, object_id)
        user = request.user
        page = self.page_context(request, article, "미리보기 링크")
        may_create = page["can_change"] and user.has_perm("articles.add_previewlink")
        may_revoke = page["can_change"] and user.has_perm("articles.change_previewlink")
        if not (may_create or user.has_perm("articles.view_previewlink")):
            raise PermissionDenied
        form = PreviewLinkForm(request.POST or None)
        if request.method == "POST":
            if not may_create:
                raise PermissionDenied
            if form.is_valid():
                link, token = PreviewLink.issue(article, user, days=form.cleaned_data["days"])
                expires = timezone.localtime(link.expires_at)
                log_change(
                    user,
                    article,
                    f"미리보기 링크 만듦 ({link.hint}…, {expires:%Y-%m-%d %H:%M} 만료)",
                )
                # Shown once, on the page the redirect leads to: only its digest is stored.
                request.session[NEW_PREVIEW_SESSION_KEY] = request.build_absolute_uri(
                    PreviewLink.url_for(article.pk, token)
                )
                return redirect(self.url_name("preview_links"), article.pk)
        context = {
            **page,
            "links": article.preview_links.select_related("created_by"),
            "new_url": request.session.pop(NEW_PREVIEW_SESSION_KEY, None),
            "form": form,
            "may_create": may_create,
            "may_revoke": may_revoke,
        }
        return TemplateResponse(request, "admin/editorial/preview_links.html", context)

    def revoke_preview_view(self, request, object_id, link_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        article = self.story_or_404(request, object_id)
        if not (
            self.has_change_permission(request, article)
            and request.user.has_perm("articles.change_previewlink")
        ):
            raise PermissionDenied
        link = get_object_or_404(PreviewLink, pk=link_id, article=article)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            log_change(request.user, article, f"미리보기 링크 취소 ({link.hint}…)")
            self.message_user(request, "미리보기 링크를 취소했습니다. 이제 열리지 않습니다.")
        return redirect(self.url_name("preview_links"), article.pk)


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


# --- Accounts: roles shown by their Korean names ------------------------------------------------


class RoleLabelMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.label_from_instance = lambda group: role_label(group.name)
        return field


if admin.site.is_registered(User):
    admin.site.unregister(User)
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(RoleLabelMixin, UserAdmin):
    list_display = [*UserAdmin.list_display, "roles"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="역할")
    def roles(self, obj):
        names = [role_label(group.name) for group in obj.groups.all()]
        if obj.is_superuser:
            names.insert(0, "최고 관리자")
        return ", ".join(names) or "—"


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    list_display = ["name", "label"]

    @admin.display(description="역할")
    def label(self, obj):
        return role_label(obj.name)
