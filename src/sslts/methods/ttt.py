"""TTT: a classifier trained jointly with masked reconstruction, for test-time training.

Sun, Wang, Liu, Miller, Efros & Hardt (2020), "Test-Time Training with Self-Supervision for
Generalization under Distribution Shifts", ICML; Gandelsman, Sun, Chen & Efros (2022),
"Test-Time Training with Masked Autoencoders", NeurIPS. One shared encoder feeds two heads: a
linear classifier (the main task) and a small decoder that rebuilds the whole series from the
embedding of a copy whose patches were hidden (the self-supervised task, as in TTT-MAE). Both are
trained jointly on the labelled training split::

    loss = cross_entropy(classifier(encoder(x)), y) + recon_weight * masked_mse(decoder(encoder(x_hidden)), x, mask)

At test time :mod:`sslts.evaluate.adapt` updates the encoder on the reconstruction loss of the
unlabelled test series alone (heads frozen) before predicting: the auxiliary task is the only
signal that is still available once the labels are gone.

Hidden patches are filled with 0, which after the training split's per-channel z-score is the
channel's training mean (a CNN cannot drop tokens the way MAE's ViT does). Unlike the other methods
of this library the encoder **sees labels**: probes on its embeddings are not self-supervised.

Shapes::

    x (B, C, L), y (B,) --make_views--> x_aug (B, C, L), mask (B, 1, L) bool, y (B,)
    [x_aug; x_aug * ~mask] (2B, C, L) --encoder--> [h; h'] (2B, D)    (one batch, see training_step)
    h (B, D) --classifier--> logits (B, n_classes);  h' (B, D) --decoder--> x_hat (B, C, L)
    --> loss (), terms {"cross_entropy", "reconstruction"}
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslts.masking import expand_patch_mask, masked_mse, n_masked, patch_mask
from sslts.methods.base import Augment, MethodConfig, MethodContext, SSLMethod, require_context, require_positive

__all__ = ["TTT", "TTTConfig"]


@dataclass(frozen=True)
class TTTConfig(MethodConfig):
    """TTT hyper-parameters (masking defaults from Gandelsman et al. 2022, after MAE).

    Attributes:
        recon_weight: weight of the masked reconstruction loss next to the cross-entropy (Sun et
            al. weight their two losses equally: 1).
        mask_ratio: fraction of patches hidden (0.75 in MAE and TTT-MAE).
        patch_size: time steps per patch; a series needs at least two patches.
        decoder_hidden: width of the decoder's hidden layer.

    Raises:
        ValueError: if a value is out of range.
    """

    recon_weight: float = 1.0
    mask_ratio: float = 0.75
    patch_size: int = 8
    decoder_hidden: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(self, "patch_size", "decoder_hidden")
        if not self.recon_weight >= 0:
            raise ValueError(f"TTTConfig.recon_weight must be >= 0, got {self.recon_weight!r}")
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"TTTConfig.mask_ratio must be in (0, 1), got {self.mask_ratio!r}")


class TTT(SSLMethod):
    """Joint classification and masked reconstruction on one encoder (TTT-MAE for time series).

    Args:
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim = D``.
        config: :class:`TTTConfig`.
        context: gives ``input_shape = (C, L)``, which sizes the decoder's output, and
            ``n_classes``, which sizes the classifier.

    Raises:
        ValueError: if the context has no class count (or fewer than 2 classes), or a series of
            length ``L`` holds fewer than two patches of ``patch_size``.

    Example:
        >>> from sslts.encoders import build_encoder
        >>> from sslts.methods.base import MethodContext
        >>> ctx = MethodContext((3, 32), lambda c: build_encoder("cnn", c), n_classes=4)
        >>> method = TTT(build_encoder("cnn", 3), TTTConfig(decoder_hidden=16), context=ctx)
        >>> x, y = torch.randn(8, 3, 32), torch.randint(0, 4, (8,))
        >>> views = method.make_views(x, lambda v, g: v, torch.Generator().manual_seed(0), y=y)
        >>> loss, terms = method.training_step(*views)
        >>> sorted(terms)
        ['cross_entropy', 'reconstruction']
    """

    name = "ttt"
    config_class = TTTConfig
    config: TTTConfig
    needs_labels = True
    needs_context = True

    def __init__(self, encoder: nn.Module, config: TTTConfig | None = None, *,
                 context: MethodContext) -> None:
        super().__init__(encoder, config)
        c = self.config
        channels, length = require_context("TTT", context).input_shape
        self.input_shape = (channels, length)
        self.n_patches = length // c.patch_size
        n_masked(self.n_patches, c.mask_ratio)  # raises now, not at the first step, if too short
        if context.n_classes is None or context.n_classes < 2:
            raise ValueError(f"TTT trains a classifier and needs the number of classes (>= 2) in its "
                             f"MethodContext, got n_classes={context.n_classes!r}")
        self.classifier = nn.Linear(encoder.out_dim, context.n_classes)
        self.decoder = nn.Sequential(
            nn.Linear(encoder.out_dim, c.decoder_hidden),
            nn.GELU(),
            nn.Linear(c.decoder_hidden, channels * length),
        )

    # ------------------------------------------------------------------ the two tasks
    def classify(self, x: Tensor) -> Tensor:
        """Class logits ``(B, n_classes)`` of series ``x`` ``(B, C, L)`` (the main task)."""
        return self.classifier(self.encoder(x))

    def draw_mask(self, batch: int, generator: torch.Generator) -> Tensor:
        """A random patch mask ``(batch, 1, L)`` (True = hidden) drawn from ``generator``."""
        c = self.config
        patches = patch_mask(batch, self.n_patches, c.mask_ratio, generator)  # (B, N)
        return expand_patch_mask(patches, c.patch_size, self.input_shape[1])  # (B, 1, L)

    def _decode(self, h: Tensor) -> Tensor:
        """The decoder's full series ``(B, C, L)`` from encodings ``h`` ``(B, D)``."""
        return self.decoder(h).view(h.shape[0], *self.input_shape)

    @staticmethod
    def _hidden_error(pred: Tensor, x: Tensor, mask: Tensor) -> Tensor:
        """Masked MSE on the hidden steps, in float32 even under autocast."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            return masked_mse(pred.float(), x.float(), mask)

    def reconstruct(self, x: Tensor, mask: Tensor) -> Tensor:
        """The decoder's full series ``(B, C, L)`` from the encoding of ``x`` with ``mask`` hidden."""
        return self._decode(self.encoder(x.masked_fill(mask, 0.0)))  # 0 = the channel's training mean

    def reconstruction_loss(self, x: Tensor, mask: Tensor) -> Tensor:
        """Masked MSE between the reconstruction and ``x``, on hidden steps only (float32)."""
        return self._hidden_error(self.reconstruct(x, mask), x, mask)

    # ------------------------------------------------------------------ the loop's hooks
    def make_views(self, x: Tensor, augment: Augment, generator: torch.Generator,
                   y: Tensor | None = None) -> tuple[Tensor, ...]:
        """One augmented view ``(B, C, L)``, its mask ``(B, 1, L)`` and the labels ``(B,)``.

        Raises:
            ValueError: if ``y`` is missing (the classifier is trained jointly).
        """
        if y is None:
            raise ValueError("TTT trains its classifier jointly: make_views needs the batch's labels y")
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"TTT was built for series of shape (C, L) = {self.input_shape}, got {tuple(x.shape[1:])}")
        n_classes = self.classifier.out_features
        if y.shape != (x.shape[0],) or y.is_floating_point() or y.min() < 0 or y.max() >= n_classes:
            raise ValueError(f"y must hold one integer label in 0..{n_classes - 1} per series, got "
                             f"{y.dtype} of shape {tuple(y.shape)}")
        view = augment(x, generator)  # (B, C, L)
        return view, self.draw_mask(view.shape[0], generator), y

    def training_step(self, x: Tensor, mask: Tensor, y: Tensor) -> tuple[Tensor, dict[str, float]]:  # type: ignore[override]
        """``cross_entropy + recon_weight * reconstruction`` for one batch, and the unweighted terms.

        The clean and the masked series go through the encoder as **one** batch: BatchNorm then
        normalises both with the statistics of the mixture, and its running averages (used at
        test time, for classification and for adaptation alike) are those same statistics. Two
        separate passes would normalise each with its own batch statistics in training but with
        a blend of the two at test time, a mismatch that costs the classifier accuracy.
        """
        batch = x.shape[0]
        hidden = x.masked_fill(mask, 0.0)  # (B, C, L)
        h = self.encoder(torch.cat([x, hidden]))  # (2B, D): clean rows first
        logits = self.classifier(h[:batch])  # (B, n_classes)
        recon = self._hidden_error(self._decode(h[batch:]), x, mask)
        with torch.autocast(device_type=x.device.type, enabled=False):
            ce = F.cross_entropy(logits.float(), y)
        loss = ce + self.config.recon_weight * recon
        return loss, {"cross_entropy": ce.item(), "reconstruction": recon.item()}
