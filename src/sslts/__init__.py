"""sslts: self-supervised learning for time-series classification.

The library behind the book: data loading and cleaning (:mod:`sslts.data`), chapter parameters and
the papermill runner (:mod:`sslts.params`, :mod:`sslts.runner`), and the SSL harness.
"""

__version__ = "0.1.0"
