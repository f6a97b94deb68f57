"""Does cleaning change accuracy? The report's cleaning claims tested on downstream accuracy.

- :mod:`.inject`: seeded damage at exact rates (missing completely at random, contiguous gaps,
  outlier spikes);
- :mod:`.conditions`: a :class:`Condition` (damage and cleaning steps) and the pipeline that
  applies it to the loaded splits, every step fitted on the training split only;
- :mod:`.runs`: the study's runs (condition x model x seed), their records, the resumable sweep;
- :mod:`.verdicts`: paired tests over seeds against each claim's reference, and a verdict per claim.

Example (the whole study, resumable; ``sslts cleaning`` on the command line):
    >>> from sslts.cleaning_study import run_study
    >>> run_study("results/cleaning")  # doctest: +SKIP
"""

from .conditions import CORRELATION_THRESHOLD, Condition, prepare_arrays, prepare_splits
from .inject import inject_gaps, inject_mcar, inject_spikes
from .runs import MODELS, SEEDS, StudyRun, all_runs, pending, run_one, run_study, study_conditions
from .verdicts import CLAIMS, EQUIVALENCE_MARGIN, claim_table, claim_verdict, failing_cells, headline_frame, holds, verdicts

__all__ = ["EQUIVALENCE_MARGIN", "CLAIMS", "CORRELATION_THRESHOLD", "Condition", "MODELS", "SEEDS", "StudyRun", "all_runs", "claim_table",
           "claim_verdict", "failing_cells", "headline_frame", "holds", "inject_gaps", "inject_mcar", "inject_spikes",
           "pending", "prepare_arrays", "prepare_splits", "run_one", "run_study", "study_conditions", "verdicts"]
