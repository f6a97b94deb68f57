"""The report layer: run records in, tables, figures' data and verdict sentences out.

The library computes (data, methods, training, evaluation, records); this package only reads
records. Chapters call it, so a reader of a chapter meets no training loop and a reader of the
library meets no prose. :mod:`sslts.report.comparison` serves the comparison chapter;
:mod:`sslts.report.stats` holds the statistics every comparison uses; cited (published) figures
live in ``cited.json`` with their sources.
"""
