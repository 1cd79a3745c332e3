"""Instances made from rows without Model.__init__ (articles/models/common.py QuickLoad): the
same values, deferred fields and state as Django makes, and Django's own way whenever a
model has a receiver of pre_init or post_init or a field that is not set plainly."""

import pytest
from django.db import models
from django.db.models.signals import post_init
from django.test.utils import isolate_apps

from articles.models import Article, Company, Tag
from articles.models.common import QuickLoad, _loads_plainly
from articles.models.stats import ViewTotal
from tests.factories import ArticleFactory, CompanyFactory, TagFactory, set_views

pytestmark = pytest.mark.django_db


def made_by_django(model, db, field_names, values):
    """What the model's from_db() makes of the row through Model.__init__: a receiver of
    post_init (doing nothing) turns the quick way off."""

    def receiver(**kwargs):
        pass

    post_init.connect(receiver, sender=model)
    try:
        return model.from_db(db, field_names, values)
    finally:
        post_init.disconnect(receiver, sender=model)


def same(quick, django_made):
    assert type(quick) is type(django_made)
    assert quick.__dict__.keys() - {"_state"} == django_made.__dict__.keys() - {"_state"}
    for name in quick.__dict__.keys() - {"_state"}:
        assert getattr(quick, name) == getattr(django_made, name), name
    assert quick.get_deferred_fields() == django_made.get_deferred_fields()
    assert (quick._state.db, quick._state.adding) == (django_made._state.db, False)


@pytest.fixture
def story():
    made = ArticleFactory(company=CompanyFactory(), cover_alt="표지")
    made.tags.add(TagFactory())
    set_views(made, 12)
    return made


@pytest.mark.parametrize("only", [None, ("title", "slug", "cover_image", "company")])
def test_a_row_is_made_as_django_makes_it(story, only):
    queryset = Article.objects.select_related("company", "view_total")
    if only:
        queryset = queryset.only(*only, "view_total__count", "company__name", "company__logo")
    loaded = queryset.get(pk=story.pk)
    fields = [field.attname for field in Article._meta.concrete_fields]
    names = [name for name in fields if name in loaded.__dict__]
    row = [loaded.__dict__[name] for name in names]
    same(Article.from_db("default", names, row), made_by_django(Article, "default", names, row))
    # The instance works as one Django made: its file, its related rows, a deferred field
    # read on demand, a save through the door's checks.
    assert loaded.cover_image.name == story.cover_image.name
    assert loaded.company.name == story.company.name
    assert loaded.view_total.count == 12
    assert loaded.excerpt == story.excerpt
    assert not loaded._state.adding


def test_related_rows_and_querysets_give_the_same_rows(story):
    for model in (Article, Company, Tag, ViewTotal):
        assert _loads_plainly(model, tuple(f.attname for f in model._meta.concrete_fields))
    company = Company.objects.get(pk=story.company_id)
    assert company.name == story.company.name
    assert company.logo.name == story.company.logo.name
    assert list(Tag.objects.filter(articles=story)) == list(story.tags.all())
    assert ViewTotal.objects.get(article=story).count == 12


def test_a_receiver_of_post_init_makes_it_django_made(story):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Article)
    try:
        Article.objects.get(pk=story.pk)
    finally:
        post_init.disconnect(receiver, sender=Article)
    assert seen == [story.pk]


@isolate_apps("articles")
def test_a_field_with_a_descriptor_of_its_own_is_set_by_django():
    class Upper:
        def __init__(self, name):
            self.name = name

        def __get__(self, instance, owner=None):
            return self if instance is None else instance.__dict__[self.name]

        def __set__(self, instance, value):
            instance.__dict__[self.name] = value.upper()

    class Shouting(models.CharField):
        def contribute_to_class(self, cls, name, **kwargs):
            super().contribute_to_class(cls, name, **kwargs)
            setattr(cls, self.attname, Upper(self.attname))

    class Loud(QuickLoad):
        word = Shouting(max_length=10)

        class Meta:
            app_label = "articles"

    assert not _loads_plainly(Loud, ("id", "word"))
    assert Loud.from_db("default", ["id", "word"], [1, "hi"]).word == "HI"
    assert not _loads_plainly(Article, ("id", "id"))
    assert not _loads_plainly(Article, ("id", "view_total"))
