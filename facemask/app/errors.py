"""The app's two kinds of error, each shown in words: what a user sent (a message in the page, and a clean
error to API clients) and what stops the app from serving as it was started (one line, before the server)."""

from __future__ import annotations

from facemask.errors import FacemaskError


class UserError(FacemaskError, ValueError):
    """A problem with what the user sent; its message is shown to them as it is."""


class ServeError(FacemaskError, OSError):
    """The app cannot serve as told: it cannot listen there, or its cameras or model cannot be opened."""
