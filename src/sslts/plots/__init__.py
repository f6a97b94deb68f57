"""Figures the chapters share. Each function draws on a new figure and returns it; :func:`show`
displays one in a chapter."""

import matplotlib.pyplot as plt

from .dissection import detector_bars, unit_segments
from .matrices import confusion, embedding_tsne, similarity_heatmap
from .methods import (TTT_MODE_LABELS, gan_training_curves, generated_vs_real, mask_ratio_curve, masked_reconstructions,
                      training_curves, ttt_shift_curves)
from .results import few_shot_figure, full_profile_overview, label_efficiency_figure, label_fraction_curves, suite_figure
from .transfer import transfer_curves
from .vqvae import code_usage_bars, records_by_method, reconstructions, samples_by_class, two_stages
from .series import augmentation_gallery, class_balance, cleaning_steps, correlation_heatmap, examples_per_class

def show(fig: plt.Figure) -> None:
    """Display a figure in a chapter once (inline backends would otherwise show it again) and free it."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


__all__ = ["show", "TTT_MODE_LABELS", "augmentation_gallery", "class_balance", "cleaning_steps", "confusion", "correlation_heatmap",
           "detector_bars", "embedding_tsne", "examples_per_class", "few_shot_figure", "full_profile_overview", "gan_training_curves",
           "generated_vs_real", "label_efficiency_figure", "label_fraction_curves", "mask_ratio_curve",
           "masked_reconstructions", "similarity_heatmap", "suite_figure", "training_curves", "transfer_curves",
           "ttt_shift_curves", "unit_segments", "code_usage_bars", "records_by_method", "reconstructions",
           "samples_by_class", "two_stages"]
