"""What the tests of reads sent along a compiled query share (articles/prepared.py
read_along())."""


def rows_reversed(read_along):
    """read_along() giving every part's rows in the reverse order: the statement promises none,
    so what reads it must not rely on the order they come in."""

    def reversed_along(*args, **kwargs):
        own, others = read_along(*args, **kwargs)
        return own[::-1], [rows[::-1] for rows in others]

    return reversed_along
