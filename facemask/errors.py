"""The project's own error type: what a user can fix (a bad path, flag, file or config).

Scripts catch `FacemaskError` in `main()` and print its message on one line; anything else is a bug
and keeps its traceback. Subclasses keep a standard base too (ValueError, FileNotFoundError, ...) so
that Python callers can catch what they already expect.
"""


class FacemaskError(Exception):
    """A problem with the user's input, said in one line: what is wrong and what to do instead."""
