"""Factories build valid, published objects by default; traits give drafts and schedules."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles.models import (
    Article,
    Collection,
    CollectionItem,
    Company,
    Kind,
    Person,
    Series,
    Status,
    Tag,
    ViewTotal,
)
from articles.services import RELATIONS, save_story

# Every factory-made user's password, for tests that log in through a form.
PASSWORD = "correct-horse-battery"
# The ArticleFactory traits of a story readers must never see.
HIDDEN_TRAITS = ["draft", "in_review", "scheduled", "expired"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"테스트컴퍼니{n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    one_liner = "함께 성장하는 개발 조직"
    hiring_url = factory.LazyAttribute(lambda c: f"https://{c.slug}.example.com/jobs")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"김개발{n}")
    slug = factory.Sequence(lambda n: f"person-{n}")
    company = factory.SubFactory(CompanyFactory)
    role = "백엔드 개발자"
    team = "플랫폼팀"


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"태그{n}")


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series

    title = factory.Sequence(lambda n: f"연재 {n}")
    slug = factory.Sequence(lambda n: f"series-{n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    kind = Kind.FEED
    title = factory.Sequence(lambda n: f"개발 문화 이야기 {n}")
    body = "## 시작하며\n\n우리 팀은 매주 코드 리뷰 회고를 합니다.\n\n> “작게 자주 배포합니다”\n"
    company = factory.SubFactory(CompanyFactory)
    status = Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))

    class Params:
        draft = factory.Trait(status=Status.DRAFT, published_at=None)
        in_review = factory.Trait(status=Status.REVIEW, published_at=None)
        scheduled = factory.Trait(
            published_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
        )
        expired = factory.Trait(
            published_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=3)),
            unpublish_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1)),
        )

    # Relations, set by the one door with the story (ArticleFactory(tags=[…])).
    tags = None
    people = None
    authors = None
    # 조회수 to start from (its own table, articles.models.ViewTotal).
    view_count = None

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        for name in RELATIONS:
            kwargs.pop(name)
        kwargs.pop("view_count")
        return super()._build(model_class, *args, **kwargs)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Through the door every writer uses (articles/services.py), unchecked: a test may
        build any story the table accepts (a withdrawn one, a long body)."""
        relations = {name: kwargs.pop(name) for name in RELATIONS}
        views = kwargs.pop("view_count")
        article = model_class(*args, **kwargs)
        save_story(article, by=None, validate=False, **relations)
        if views is not None:
            set_views(article, views)
        return article


def set_views(article, count: int) -> None:
    """Give the story this 조회수, whatever it had (the instance forgets the total it loaded)."""
    ViewTotal.objects.update_or_create(article_id=article.pk, defaults={"count": count})
    if Article.view_total.related.is_cached(article):
        Article.view_total.related.delete_cached_value(article)


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"추천 모음 {n}")
    slug = factory.Sequence(lambda n: f"collection-{n}")


class CollectionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionItem

    collection = factory.SubFactory(CollectionFactory)
    article = factory.SubFactory(ArticleFactory)
    position = factory.Sequence(int)


class StaffFactory(UserFactory):
    """A staff member in one editorial role (articles/roles.py): StaffFactory(role="editor").
    Writer by default."""

    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if not create:
            return
        from django.contrib.auth.models import Group

        from articles.roles import sync_roles

        name = extracted or "writer"
        group = Group.objects.filter(name=name).first()
        if group is None:  # a transactional test's flush emptied the groups table
            sync_roles()
            group = Group.objects.get(name=name)
        obj.groups.add(group)
