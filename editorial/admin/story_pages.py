"""The pages under a story in the admin: its version history (compare, restore) and its preview
links. ArticleAdmin (editorial/admin/stories.py) mounts them; every rule is checked on the
server for the story at hand, buttons are hidden only as a courtesy."""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from articles.models import PREVIEW_DAYS, PREVIEW_MAX_DAYS, PreviewLink, Revision
from articles.revisions import log_change
from articles.services import restore_revision
from editorial.compare import compare

NEW_PREVIEW_SESSION_KEY = "editorial:new-preview-url"


class PreviewLinkForm(forms.Form):
    days = forms.IntegerField(
        label="열어 둘 기간(일)", min_value=1, max_value=PREVIEW_MAX_DAYS, initial=PREVIEW_DAYS
    )


class StoryPages:
    """The story admin's pages beyond the change form (mixed into ArticleAdmin)."""

    # Each page under a story: its address below the story's admin URL, its view, its name.
    PAGES = [
        ("revisions/", "revisions_view", "revisions"),
        ("revisions/compare/", "compare_view", "compare"),
        ("revisions/<int:number>/restore/", "restore_view", "restore"),
        ("preview-links/", "preview_links_view", "preview_links"),
        ("preview-links/<int:link_id>/revoke/", "revoke_preview_view", "revoke_preview"),
    ]

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        pages = [
            path(
                f"<path:object_id>/{route}",
                self.admin_site.admin_view(getattr(self, view)),
                name=f"{info}_{name}",
            )
            for route, view, name in self.PAGES
        ]
        return [*pages, *super().get_urls()]

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
