"""The counter behind the content version (articles/versions.py)."""

from django.db import models

__all__ = ["ContentVersion"]


class ContentVersion(models.Model):
    """One row whose number every content write moves, in the write's own transaction: the
    version of what readers may see moves exactly when the write commits, on every host."""

    number = models.PositiveBigIntegerField("번호", default=0)
    # How many of those writes were a story's save or delete through the door, which changes
    # no story card but its own (kept under its story's version): `number` less this moves
    # with every other write (a company's, a hashtag's, a picture's renditions), the version's
    # `cards` (articles/versions.py). A host still running code from before this column, which
    # moves `number` alone, moves that too: it never leaves a card kept that should not be.
    story_saves = models.PositiveBigIntegerField("스토리 저장 수", default=0, db_default=0)

    class Meta:
        # Nobody edits it by hand: no permissions to grant.
        default_permissions = ()
        verbose_name = "콘텐츠 버전"
        verbose_name_plural = "콘텐츠 버전"

    def __str__(self):
        return f"콘텐츠 버전 {self.number}"
