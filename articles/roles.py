"""Who may do what to a story. Three roles, kept as auth groups (created by the migration
editorial/0002_roles), each a set of Django permissions:

- writer (작성자): writes stories, edits their own while they are not published, sends them
  for review, makes preview links for them. Cannot publish, cannot touch anyone else's story.
- editor (편집자): edits every story, publishes, schedules and unpublishes
  (`articles.publish_article`), looks after companies, people, tags, series and collections.
- admin (관리자): an editor who also manages accounts, groups, API tokens and login lockouts.

The rules here are the ones the admin enforces on every view and action (editorial/admin.py),
the API and the reader site call too; hiding a button is never the check.
"""

from django.db.models import Q

from articles.models import Article, Status

WRITER, EDITOR, ADMIN = "writer", "editor", "admin"
ROLE_LABELS = {WRITER: "작성자", EDITOR: "편집자", ADMIN: "관리자"}
PUBLISH_PERMISSION = "articles.publish_article"

_STORY = ["add_article", "change_article", "delete_article", "view_article"]
_CRUD = ("add", "change", "delete", "view")

# app label -> codenames. "*" grants every permission of the app.
ROLE_PERMISSIONS = {
    WRITER: {
        "articles": [
            *_STORY,
            *("view_company", "view_person", "view_series", "view_tag", "add_tag"),
            *("view_revision", "add_previewlink", "change_previewlink", "view_previewlink"),
        ],
    },
    EDITOR: {
        "articles": [
            *_STORY,
            "publish_article",
            *(
                f"{action}_{model}"
                for model in ("company", "person", "tag", "series", "collection", "collectionitem")
                for action in _CRUD
            ),
            *(f"{action}_{model}" for model in ("revision", "previewlink") for action in _CRUD),
            "view_dailyview",
        ],
        "admin": ["view_logentry"],
    },
    ADMIN: {
        "articles": "*",
        "admin": ["view_logentry"],
        "auth": "*",
        "tokens": "*",
        "axes": "*",
    },
}


def sync_roles() -> None:
    """Create the role groups, or bring their permissions back to ROLE_PERMISSIONS. The
    migration 0002_roles does the same with the definition of its day; tests call this after
    a flush has emptied the groups table."""
    from django.contrib.auth.models import Group, Permission

    for name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for app_label, codenames in grants.items():
            found = Permission.objects.filter(content_type__app_label=app_label)
            if codenames != "*":
                found = found.filter(codename__in=codenames)
            permissions.extend(found)
        group.permissions.set(permissions)


def role_label(group_name: str) -> str:
    label = ROLE_LABELS.get(group_name)
    return f"{label} ({group_name})" if label else group_name


def can_publish(user) -> bool:
    """Editors and admins: publish, schedule, unpublish, and edit any story."""
    return user.is_active and user.has_perm(PUBLISH_PERMISSION)


def can_operate(user) -> bool:
    """Editors and admins: the operators' room (the database's status, server addresses and
    the process list), which a writer has no need to see."""
    return user.is_active and user.is_staff and user.has_perm(PUBLISH_PERMISSION)


def own_stories(user) -> Q:
    """Stories the user started or is named an author of."""
    authored = Article.authors.through.objects.filter(user_id=user.pk).values("article_id")
    return Q(created_by_id=user.pk) | Q(pk__in=authored)


def owns(user, article) -> bool:
    if article.pk is None or article.created_by_id == user.pk:
        return True
    return article.authors.filter(pk=user.pk).exists()


def can_edit(user, article) -> bool:
    """May `user` change (or delete, restore, share) this story? An editor: any. A writer:
    their own, and only while it is not published."""
    if not user.has_perm("articles.change_article"):
        return False
    if can_publish(user):
        return True
    return article.status != Status.PUBLISHED and owns(user, article)


def stories_for(user, queryset):
    """The stories `user` may see in the admin: all for editors, their own for writers."""
    if can_publish(user):
        return queryset
    return queryset.filter(own_stories(user))


def visible_to(user, queryset=None, now=None):
    """The stories `user` may open on the reader site: everything for editors (they get a
    marked preview); for a writer, the published stories and their own; the published
    stories for everybody else."""
    queryset = Article.objects.all() if queryset is None else queryset
    if user is None or not (
        user.is_active and user.is_staff and user.has_perm("articles.change_article")
    ):
        return queryset.published(now)
    if can_publish(user):
        return queryset
    return queryset.filter(Q(pk__in=queryset.published(now).values("pk")) | own_stories(user))
