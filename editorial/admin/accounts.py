"""Accounts in the admin, with the editorial roles shown by their Korean names."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from articles.roles import role_label

User = get_user_model()


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
