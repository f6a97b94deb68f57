"""NC-VQVAE: a VQ-VAE tokenizer for time series whose encoder may also learn from a
non-contrastive SSL loss, and a MaskGIT-style class-conditional prior over its tokens.

Mathisen, Lokna, Lee & Aune (2024), arXiv:2408.16613; van den Oord et al. (2017) VQ-VAE;
Lee et al. (2023) TimeVQVAE; Chang et al. (2022) MaskGIT.

- :mod:`~sslts.vqvae.quantizer`: nearest code, straight-through, EMA codebook, usage and perplexity.
- :mod:`~sslts.vqvae.ssl_branch`: projector plus the project's Barlow Twins / VIbCReg loss.
- :mod:`~sslts.vqvae.tokenizer`: encoder, quantiser, decoder; the stage-1 loss.
- :mod:`~sslts.vqvae.prior`: the masked-token Transformer and its cosine masking schedule.
- :mod:`~sslts.vqvae.sampler`: MaskGIT's iterative parallel decoding, classifier-free guidance.
- :mod:`~sslts.vqvae.config`: :class:`VQVAEConfig`, the one source of defaults (CPU-sized).
- :mod:`~sslts.vqvae.train`: the stage-1 and stage-2 loops and sample generation.
- :mod:`~sslts.vqvae.evaluate`: probes, reconstruction, codebook use, FID / IS / CAS.
- :mod:`~sslts.vqvae.run`: one run of both stages as a JSON run record.
- :mod:`~sslts.vqvae.sweep`: the resumable sweep behind ``sslts vqvae`` (records under ``results/vqvae/``).
"""

from .config import AUGMENTATIONS, VARIANTS, VQVAEConfig
from .prior import MaskedTokenPrior, mask_ratio, masked_count
from .quantizer import VectorQuantizer, code_usage, nearest_codes, perplexity
from .ssl_branch import SSL_LOSSES, SSLBranch
from .run import run_vqvae
from .sampler import maskgit_sample
from .tokenizer import VQTokenizer, build_tokenizer, reconstruction_loss

__all__ = [
    "AUGMENTATIONS", "VARIANTS", "VQVAEConfig", "MaskedTokenPrior", "mask_ratio", "masked_count",
    "maskgit_sample", "run_vqvae", "SSL_LOSSES", "SSLBranch", "VQTokenizer", "VectorQuantizer", "build_tokenizer", "code_usage",
    "nearest_codes", "perplexity", "reconstruction_loss",
]
