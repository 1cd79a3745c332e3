"""Parse a text dump of a TheTeams (더팀스) story-hub page into structured stories.

The dump is what a browser's "save as text" gives for a story-hub page: a few navigation lines,
a curated section title, then one block per story::

    조회수 669
    (blank)
    <title line>
    (blank)
    <the whole body on ONE line>

followed by footer lines. Saving as text lost the HTML structure: paragraphs run into each
other ("…입니다.Redis는…"), some block boundaries survive only as runs of (no-break)
spaces, pull quotes stand alone between such runs, footnote texts sit at the end of the body
each ending with " ↩", their references are bare digits glued to a word ("사용한1"), and the
story's hashtags trail the body.

This module is pure (stdlib only, no Django): `parse_dump` turns the dump into `ParsedStory`
objects with the body restored to Markdown, and `is_faithful` checks the promise the importer
makes: every visible character of the source body (minus the hashtag run and the ↩ markers)
is still in the Markdown, in the same order. Restoration only ever *inserts* characters
(newlines, "> ", "## ", "[^n]", backslash escapes) or changes whitespace; it never drops or
reorders anything else.
"""

from articles.theteams.page import (
    KINDS,
    DumpError,
    ParsedPage,
    ParsedStory,
    fidelity_text,
    is_faithful,
    parse_dump,
)

__all__ = [
    "KINDS",
    "DumpError",
    "ParsedPage",
    "ParsedStory",
    "fidelity_text",
    "is_faithful",
    "parse_dump",
]
