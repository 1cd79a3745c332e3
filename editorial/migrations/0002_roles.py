"""The three roles as auth groups with their permissions (articles/roles.py says who may do
what). Running it again brings the groups' permissions back to the definition; users keep their
groups. Permissions are normally created after all migrations ran, so they are created here
first for the apps the roles name."""

from django.db import migrations

# Kept here as they were when this migration was written: a migration must not change when
# articles/roles.py does. A later change to the roles comes with a new migration.
ROLE_PERMISSIONS = {
    "writer": {
        "articles": [
            "add_article", "change_article", "delete_article", "view_article",
            "view_company", "view_person", "view_series", "view_tag", "add_tag",
        ],
        "editorial": ["view_revision", "add_previewlink", "change_previewlink", "view_previewlink"],
    },
    "editor": {
        "articles": [
            "add_article", "change_article", "delete_article", "view_article", "publish_article",
            *(
                f"{action}_{model}"
                for model in ("company", "person", "tag", "series", "collection", "collectionitem")
                for action in ("add", "change", "delete", "view")
            ),
            "view_dailyview",
        ],
        "editorial": "*",
        "admin": ["view_logentry"],
    },
    "admin": {
        "articles": "*",
        "editorial": "*",
        "admin": ["view_logentry"],
        "auth": "*",
        "tokens": "*",
        "axes": "*",
    },
}


def ensure_permissions(apps, label):
    """The default and declared permissions of the app's models as this migration sees them
    (what Django's create_permissions makes after migrate, frozen here: that function reads
    the installed apps of today, where these models may have moved)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in apps.get_app_config(label).get_models():
        opts = model._meta
        content_type, _ = ContentType.objects.get_or_create(
            app_label=opts.app_label, model=opts.model_name
        )
        wanted = [
            (f"{action}_{opts.model_name}", f"Can {action} {opts.verbose_name_raw}")
            for action in opts.default_permissions
        ]
        for codename, name in [*wanted, *opts.permissions]:
            Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )


def create_roles(apps, schema_editor):
    for label in ("contenttypes", "auth", "admin", "articles", "editorial", "tokens", "axes"):
        ensure_permissions(apps, label)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for app_label, codenames in grants.items():
            found = Permission.objects.filter(content_type__app_label=app_label)
            if codenames != "*":
                found = found.filter(codename__in=codenames)
                missing = set(codenames) - set(found.values_list("codename", flat=True))
                if missing:
                    raise RuntimeError(f"Permissions missing for role {name}: {sorted(missing)}")
            permissions.extend(found)
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0001_revisions_and_preview_links"),
        ("articles", "0004_publish_permission_and_image_checks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("tokens", "0002_cache_table"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
