"""Where a story came from and the date readers see for it.

A story imported from another site (its source_key names one of IMPORT_SOURCES,
"theteams:제목"; the demo seed's "demo:…" keys name none) says so on its page and in the API
("더팀스에서 가져온 글"). Its date is the original publication date when known
(original_published_on); a source that gave none (a TheTeams page dump carries no dates) is
shown as 날짜 미상, never as the day of the import. published_at stays what decides
visibility (states.py) and the order of the lists: imported stories sort by their import,
in the order of the page they came from.
"""

# The sites stories are imported from, by the prefix of their source_key ("theteams:제목").
IMPORT_SOURCES = {"theteams": "더팀스"}


def source_site_of(source_key: str) -> str | None:
    """The site a story of `source_key` was imported from ("더팀스"), None for one written
    here."""
    prefix, _, _ = source_key.partition(":")
    return IMPORT_SOURCES.get(prefix) if source_key else None


def date_unknown_of(source_key: str, original_published_on) -> bool:
    """Whether readers see 날짜 미상: an imported story whose source gave no date."""
    return source_site_of(source_key) is not None and original_published_on is None


class Provenance:
    """Mixed into Article: reads source_key, original_published_on and published_at."""

    @property
    def source_site(self) -> str | None:
        """The site an imported story came from ("더팀스"), None for a story written here."""
        return source_site_of(self.source_key)

    @property
    def source_label(self) -> str:
        """What the story page and the API say of an imported story's origin."""
        return f"{self.source_site}에서 가져온 글" if self.source_site else ""

    @property
    def shown_date(self):
        """The date readers see: the original publication date when known (a date); else,
        for a story written here, when it was published here (a datetime); else None, for an
        imported story whose source gave no date: it reads 날짜 미상 (date_unknown). published_at
        still decides when readers see it and where it sorts (by its import, in page order)."""
        if self.original_published_on:
            return self.original_published_on
        return None if self.source_site else self.published_at

    @property
    def date_unknown(self) -> bool:
        return date_unknown_of(self.source_key, self.original_published_on)
