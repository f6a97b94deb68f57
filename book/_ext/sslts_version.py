"""Sphinx extension: print the package version and git commit in the footer of every page."""

from __future__ import annotations


def _set_footer(app, config) -> None:
    from sslts import __version__
    from sslts.provenance import git_commit

    options = dict(config.html_theme_options or {})
    options["extra_footer"] = f"<p>Built with sslts {__version__}, commit <code>{git_commit(app.srcdir)}</code>.</p>"
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", _set_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
