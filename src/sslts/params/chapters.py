"""The declarations: parameters every chapter has (:data:`COMMON`) and each chapter's own (:data:`CHAPTERS`)."""

from __future__ import annotations

from .schema import PROFILES, Param, method_param

DATASET_PATTERN = r"[A-Za-z][A-Za-z0-9\-]*"
_DATASET_HELP = "dataset names (uwave, uwave-full, har, or a UEA/UCR problem such as BasicMotions)"

# Parameters every chapter has.
COMMON: dict[str, Param] = {
    "profile": Param(str, "quick", "run profile", choices=PROFILES),
    "seed": Param(int, 0, "random seed for everything the chapter draws", low=0, high=2**31 - 1),
}

CHAPTERS: dict[str, dict[str, Param]] = {
    "intro": {},
    "data": {
        "dataset": Param(list, ["uwave", "har"], _DATASET_HELP, pattern=DATASET_PATTERN),
        "examples_per_class": Param(int, 3, "example series drawn per class", low=1, high=20,
                                    by_profile={"smoke": 1}),
        "outlier_threshold": Param(float, 3.0, "z-score threshold of the outlier step", low=0.5, high=20.0),
        "smoothing_window": Param(int, 5, "centred moving-average window (time steps)", low=1, high=101, odd=True),
        "impute_fraction": Param(float, 0.05, "fraction of values hidden to demonstrate imputation", low=0.0, high=0.5),
        "impute_series": Param(int, 300, "series used in the imputation demonstration", low=10, high=100000,
                               by_profile={"smoke": 60, "full": 2000}),
    },
}


def _check_augmentations(spec: str) -> None:
    from ..augment import build_pipeline  # imports torch, so only when a chapter needs it

    build_pipeline(spec)


def _check_device(device: str) -> None:
    """A CUDA device must exist here; otherwise say what there is, before any data is loaded."""
    if not device.startswith("cuda"):
        return
    import torch  # only when a GPU is asked for

    if not torch.cuda.is_available():
        raise ValueError(f"{device} was asked for, but this machine has no usable CUDA device (torch "
                         f"{torch.__version__}, built {'with' if torch.backends.cuda.is_built() else 'without'} "
                         "CUDA); use device 'auto' or 'cpu', or install a CUDA build of torch (see the README)")
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise ValueError(f"{device} was asked for, but there are {torch.cuda.device_count()} CUDA devices")


def _method_chapter(**method_params: Param) -> dict[str, Param]:
    """Parameters shared by every method chapter, plus the method's own loss/head parameters."""
    return {
        "dataset": Param(list, ["uwave", "har"], _DATASET_HELP, pattern=DATASET_PATTERN),
        "encoder": Param(str, "cnn", "encoder architecture", choices=("cnn", "dilated")),
        "temporal_bins": Param(int, 1, "cnn encoder: pool over this many stretches of time (1 = the whole series)",
                               low=1, high=64),
        "pooling": Param(str, "avg", "cnn encoder: each time bin's summary, mean (avg) or maximum (max, as TS2Vec)",
                         choices=("avg", "max")),
        "epochs": Param(int, 0, "pre-training epochs (0 = auto: pretrain_budget series passes, 5 to 200 epochs)",
                        low=0, high=5000, by_profile={"smoke": 1}),
        # quick: 6000 passes keep the whole book under 15 minutes on a 2-core CPU (8000 took
        # 14.5); a preview, the full-profile records carry the paper-grade numbers.
        "pretrain_budget": Param(int, 6_000, "series passes of the auto epochs setting", low=100, high=10**9,
                                 by_profile={"full": 220_000}),
        "batch_size": Param(int, 128, "pre-training batch size", low=2, high=8192),
        "lr": Param(float, 1e-3, "peak learning rate (AdamW, warm-up then cosine)", low=1e-6, high=1.0),
        "n_seeds": Param(int, 1, "seeds run: seed, seed+1, ...; tables show mean and std", low=1, high=20,
                         by_profile={"full": 5}),
        "augmentations": Param(str, "jitter,scaling,time_warp,crop_resize",
                               "augmentation pipeline: names, or name(p=0.8,sigma=0.05) with probability and strengths",
                               check=_check_augmentations),
        "max_train": Param(int, 1000, "cap on training series (stratified subsample; 0 = all) and on the extra pool (uniform draw)", low=0, high=10**7,
                           by_profile={"smoke": 96, "full": 0}),
        "max_test": Param(int, 0, "cap on test series (stratified subsample; 0 = all)", low=0, high=10**7,
                          by_profile={"smoke": 96}),
        "finetune_epochs": Param(int, 6, "fine-tuning epochs (0 skips fine-tuning)", low=0, high=5000,
                                 by_profile={"smoke": 1, "full": 30}),
        "finetune_min_steps": Param(int, 120, "fine-tuning runs at least this many steps (more epochs on small sets)",
                                    low=0, high=10**6, by_profile={"smoke": 0, "full": 0}),
        "extra_pool": Param(bool, False, "add the full UWave set (minus the UEA test gestures) to UWave pre-training"),
        "device": Param(str, "auto", "compute device", pattern=r"auto|cpu|cuda(:\d+)?", check=_check_device),
        **method_params,
    }


_WIDTH = {"low": 8, "high": 16384}
CHAPTERS.update({
    "augmentations": {
        "dataset": Param(list, ["uwave", "har"], _DATASET_HELP, pattern=DATASET_PATTERN),
        "examples": Param(int, 2, "series shown per dataset", low=1, high=10, by_profile={"smoke": 1}),
        "bench_batch": Param(int, 256, "batch size of the throughput measurement", low=2, high=8192,
                             by_profile={"smoke": 32}),
    },
    "simclr": _method_chapter(
        temperature=method_param("simclr.temperature", float, "NT-Xent temperature", low=1e-3, high=10.0),
        proj_hidden=method_param("simclr.proj_hidden", int, "projection head hidden width", **_WIDTH),
        proj_dim=method_param("simclr.proj_dim", int, "projection output width", **_WIDTH),
    ),
    "vicreg": _method_chapter(
        sim_weight=method_param("vicreg.sim_weight", float, "invariance weight (lambda)", low=0.0, high=1000.0),
        var_weight=method_param("vicreg.var_weight", float, "variance weight (mu)", low=0.0, high=1000.0),
        cov_weight=method_param("vicreg.cov_weight", float, "covariance weight (nu)", low=0.0, high=1000.0),
        expander_dim=method_param("vicreg.expander_dim", int, "expander width (paper: 8192)", **_WIDTH),
    ),
    "barlow": _method_chapter(
        lambda_offdiag=method_param("barlow_twins.lambda_offdiag", float, "Barlow Twins off-diagonal weight", low=0.0, high=10.0),
        proj_dim=method_param("barlow_twins.proj_dim,barlow_twins.proj_hidden,vibcreg.proj_dim,vibcreg.proj_hidden", int, "projector width for Barlow Twins and VIbCReg (papers: 8192, 4096)", **_WIDTH),
        vibcreg_cov_weight=method_param("vibcreg.cov_weight", float, "VIbCReg normalised-covariance weight", low=0.0, high=10000.0),
    ),
})


# ------------------------------------------------------------------ the other four method families
def _check_modality(spec: str) -> None:
    from ..methods.clip import parse_modality  # imports torch, so only when a chapter needs it

    parse_modality(spec)


def _divisible_by_4(value: int) -> None:
    if value % 4 != 0:
        raise ValueError(f"must be a multiple of 4 (the attention heads), got {value}")


CHAPTERS.update({
    # MAE (He et al. 2022): masked modelling of patches. The patch Transformer is this chapter's
    # default encoder, and the batch is smaller: with the same series passes, four times the
    # steps, which a Transformer needs.
    "mae": {
        **_method_chapter(
            mask_ratio=method_param("mae.mask_ratio", float, "fraction of patches hidden (MAE paper: 0.75)", low=0.05, high=0.95),
            patch_size=method_param("mae.patch_size", int, "time steps per patch (encoder tokens and reconstruction targets)",
                             low=2, high=128),
            embed_dim=Param(int, 64, "transformer encoder: token width", low=8, high=1024, check=_divisible_by_4),
            encoder_depth=Param(int, 3, "transformer encoder: layers", low=1, high=24),
            decoder_dim=method_param("mae.decoder_dim", int, "decoder width (paper: 512 for a 1024-wide encoder)", low=8, high=1024,
                              check=_divisible_by_4),
            decoder_depth=method_param("mae.decoder_depth", int, "decoder layers (paper: 8)", low=1, high=24),
            normalize_target=method_param("mae.normalize_target", bool, "predict per-patch normalised patches (MAE's norm_pix_loss)"),
            mae_augment=method_param("mae.augment", bool, "apply the augmentation pipeline before masking (MAE: little or none)"),
            mask_ratios=Param(list, [0.4, 0.6, 0.75, 0.9], "mask ratios of the sweep and of the reconstruction "
                              "figure", item=float, low=0.05, high=0.95,
                              by_profile={"smoke": [0.5, 0.75], "quick": [0.4, 0.75, 0.9]}),
            sweep_dataset=Param(str, "uwave", "dataset of the mask-ratio sweep", pattern=DATASET_PATTERN),
            sweep_budget=Param(int, 15_000, "series passes of each sweep run (auto epochs)", low=100, high=10**9,
                               by_profile={"smoke": 4_000, "full": 220_000}),
            sweep_cnn=Param(bool, True, "also run the sweep's default ratio with the cnn encoder (zero-masked "
                            "input)", by_profile={"smoke": False, "quick": False}),
        ),
        "encoder": Param(str, "transformer", "encoder: transformer (MAE proper) or cnn/dilated (zero-masked input)",
                         choices=("transformer", "cnn", "dilated")),
        "batch_size": Param(int, 32, "pre-training batch size", low=2, high=8192),
        # A patch Transformer pre-trains several times faster per series pass than the CNN on the
        # CPU, and at 4000 passes it had not learned to reconstruct (loss about 1): quick keeps
        # 15000.
        "pretrain_budget": Param(int, 15_000, "series passes of the auto epochs setting", low=100, high=10**9,
                                 by_profile={"full": 220_000}),
        # Fine-tuning a Transformer costs several times a CNN's on the CPU: fewer steps in quick.
        "finetune_epochs": Param(int, 4, "fine-tuning epochs (0 skips fine-tuning)", low=0, high=5000,
                                 by_profile={"smoke": 1, "full": 30}),
        "finetune_min_steps": Param(int, 50, "fine-tuning runs at least this many steps (more epochs on small "
                                    "sets)", low=0, high=10**6, by_profile={"smoke": 0, "full": 0}),
    },
    # SS-GAN (Chen et al. 2019): GAN with the transformation-prediction task.
    "ssgan": _method_chapter(
        latent_dim=method_param("ssgan.latent_dim", int, "size of the generator's Gaussian input z", low=1, high=4096),
        alpha=method_param("ssgan.alpha", float, "weight of the generator's transformation term (paper: 0.2)", low=0.0, high=100.0),
        beta=method_param("ssgan.beta", float, "weight of the discriminator's transformation term (paper: 1)", low=0.0,
                   high=100.0),
        gan_loss=method_param("ssgan.gan_loss", str, "adversarial loss", choices=("non_saturating", "hinge")),
        lr_d=method_param("ssgan.lr_d", float, "discriminator learning rate (Adam; the common lr is unused by SS-GAN; a "
                   "quarter of lr_g: see bench_ssgan_stability)",
                   low=1e-6, high=1.0),
        lr_g=method_param("ssgan.lr_g", float, "generator learning rate (Adam)", low=1e-6, high=1.0),
        adam_beta1=method_param("ssgan.adam_beta1", float, "Adam beta1 of both players", low=0.0, high=0.999),
        spectral_norm=method_param("ssgan.spectral_norm", bool, "spectral normalisation on the discriminator's two heads"),
        diff_augment=method_param("ssgan.diff_augment", bool, "augment every series the discriminator sees, real and generated "
                           "(DiffAugment), with the augmentations parameter"),
        r1_gamma=method_param("ssgan.r1_gamma", float, "weight of the R1 gradient penalty on real series (0 = off)", low=0.0,
                       high=1000.0),
        minibatch_std=method_param("ssgan.minibatch_std", bool, "give the real/fake head the spread of each group of series (against "
                            "mode collapse)"),
        batch_fraction=method_param("ssgan.batch_fraction", float, "share of each batch SS-GAN uses per step (0.25: the compute of a "
                             "two-view method)", low=0.01, high=1.0),
        # On UWave's 120 training series the discriminator wins almost every epoch; the unlabelled
        # pool of the full UWave set (the UEA test gestures left out) keeps it from memorising them
        # (bench_ssgan_stability, slow_d_pool). Off in the smoke profile, which only checks the code.
        extra_pool=Param(bool, True, "pre-train on UWave's unlabelled extra pool too (the full UWave set "
                         "without the UEA test gestures; ignored for other datasets)", by_profile={"smoke": False}),
        fidelity_epochs=Param(int, 30, "epochs of the supervised classifier whose features score sample "
                              "quality (at least finetune_min_steps steps)", low=1, high=1000,
                              by_profile={"smoke": 1, "quick": 10}),
        plain_gan=Param(bool, False, "also train the GAN without the auxiliary task (alpha = beta = 0)",
                        by_profile={"full": True}),
        examples_per_class=Param(int, 3, "real and generated series shown per class", low=1, high=10,
                                 by_profile={"smoke": 1}),
    ),
    # CLIP-style alignment of two modalities, and a text tower for zero-shot classification.
    "clip": _method_chapter(
        view_a=method_param("clip.view_a", str, "modality of tower A: time, spectrum, channels:i,j,... or auto (the "
                     "dataset's first sensor group, e.g. HAR's accelerometer; otherwise time)", check=_check_modality),
        view_b=method_param("clip.view_b", str, "modality of tower B (auto: the dataset's second sensor group, e.g. HAR's "
                     "gyroscope; otherwise spectrum)", check=_check_modality),
        proj_dim=method_param("clip.proj_dim", int, "width of the shared embedding space (linear projections)", **_WIDTH),
        init_temperature=method_param("clip.init_temperature", float, "initial temperature (CLIP: 0.07; learned, 1/tau clipped at 100)",
                               low=0.01, high=1.0),
        augment_views=method_param("clip.augment_views", str, "augment both modalities with one draw, one draw each, or not at all",
                            choices=("shared", "independent", "none")),
        tower_protocols=Param(list, ["knn"], "probes run on each tower separately (trained and random weights)",
                              choices=("linear", "svm", "knn"), by_profile={"full": ["linear", "svm", "knn"]}),
        held_out=Param(list, ["WALKING_DOWNSTAIRS+SITTING"],
                       "zero-shot splits on HAR: each item the held-out classes joined by '+'",
                       pattern=r"[A-Z_]+(\+[A-Z_]+)*",
                       by_profile={"full": ["WALKING_DOWNSTAIRS+SITTING", "WALKING_UPSTAIRS+STANDING",
                                            "WALKING+LAYING"]}),
        # Smoke (CI, nbval) skips loading MiniLM (about 10 s).
        text_model=Param(str, "all-MiniLM-L6-v2", "sentence embedder of the class descriptions",
                         choices=("all-MiniLM-L6-v2", "hashing"), by_profile={"smoke": "hashing"}),
        prompts=Param(str, "description", "class texts: name, description, or ensemble (both, averaged)",
                      choices=("name", "description", "ensemble")),
        zero_shot_variants=Param(list, ["main"], "zero-shot settings: main (text_model, prompts), hashing "
                                 "(bag-of-words text), name / ensemble (other prompts), clip_init (series tower "
                                 "= the frozen CLIP towers)",
                                 choices=("main", "hashing", "name", "ensemble", "clip_init"),
                                 by_profile={"full": ["main", "hashing", "name", "ensemble", "clip_init"]}),
        zero_shot_epochs=Param(int, 4, "epochs of the series-to-text alignment", low=1, high=1000,
                               by_profile={"smoke": 1, "full": 30}),
        zero_shot_max_train=Param(int, 600, "cap on seen-class training series for zero-shot (0 = all)",
                                  low=0, high=10**7, by_profile={"smoke": 96, "full": 0}),
    ),
    # Test-time training (TTT-MAE): joint training, then the test-time adaptation and the
    # distribution shifts it is evaluated under (corruption names as in sslts.shifts.SHIFTS).
    "ttt": _method_chapter(
        recon_weight=method_param("ttt.recon_weight", float, "weight of the masked reconstruction loss next to the cross-entropy",
                           low=0.0, high=100.0),
        mask_ratio=method_param("ttt.mask_ratio", float, "fraction of patches hidden (TTT-MAE: 0.75)", low=0.05, high=0.95),
        patch_size=method_param("ttt.patch_size", int, "time steps per masked patch", low=1, high=256),
        adapt_steps=Param(int, 5, "test-time gradient steps per batch or series (0 = no adaptation)", low=0,
                          high=1000, by_profile={"smoke": 1, "quick": 2}),
        adapt_lr=Param(float, 5e-3, "test-time learning rate", low=1e-6, high=1.0),
        adapt_optimizer=Param(str, "sgd", "test-time optimiser (SGD with momentum 0.9 as TTT-MAE, or Adam)",
                              choices=("sgd", "adam")),
        adapt_masks=Param(int, 16, "random masks of the one series forming the batch of single-series TTT",
                          low=1, high=1024, by_profile={"smoke": 4, "quick": 8}),
        adapt_batch=Param(int, 64, "test series per batch of batch TTT", low=1, high=8192),
        shifts=Param(list, ["gaussian_noise", "gain", "offset_drift", "time_warp", "dead_channel"],
                     "test-series corruptions (sslts.shifts)",
                     choices=("gaussian_noise", "gain", "offset_drift", "time_warp", "dead_channel")),
        severities=Param(list, [1, 3, 5], "corruption severities (1..5)", item=int, low=1, high=5,
                         by_profile={"smoke": [5], "quick": [1, 5]}),
        shift_test_cap=Param(int, 96, "test series per shift evaluation (stratified subsample; 0 = all)", low=0,
                             high=10**7, by_profile={"smoke": 16, "quick": 48, "full": 1000}),
        compare_bn=Param(bool, True, "also run batch TTT with BatchNorm on the test batch's statistics"),
    ),
})


# The comparison chapter reads the committed records of `sslts compare`; it trains nothing.
CHAPTERS["comparison"] = {
    "records": Param(str, "comparison", "folder of the comparison's run records, under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
    "focus": Param(list, ["uwave", "har"], "datasets shown in detail (intervals, paired tests)",
                   pattern=DATASET_PATTERN),
}


# The reproducibility appendix reads committed re-runs of records; it trains nothing.
CHAPTERS["reproducibility"] = {}
CHAPTERS["conclusions"] = {}  # reads every study's records; trains nothing


# Network dissection: which units of each encoder detect which concept (Bau et al. 2017, in 1-D).
CHAPTERS["dissection"] = {
    "dataset": Param(list, ["uwave", "har"], _DATASET_HELP, pattern=DATASET_PATTERN, by_profile={"smoke": ["uwave"]}),
    "methods": Param(list, ["random_init", "supervised", "simclr", "vicreg"],
                     "encoders dissected: SSL methods (CNN encoder), the untrained one, and the supervised CNN",
                     choices=("random_init", "supervised", "simclr", "vicreg", "barlow_twins", "vibcreg", "mae",
                              "ssgan", "clip", "ttt"),
                     by_profile={"smoke": ["random_init", "simclr"],
                                 "full": ["random_init", "supervised", "simclr", "vicreg", "barlow_twins", "vibcreg",
                                          "mae", "ssgan", "clip", "ttt"]}),
    # quick: a short pre-training on at most 300 series keeps the chapter near a minute on 2 cores.
    "pretrain_budget": Param(int, 3_000, "series passes of each method's pre-training", low=100, high=10**9,
                             by_profile={"smoke": 300, "full": 220_000}),
    "supervised_epochs": Param(int, 10, "epochs of the supervised CNN", low=1, high=1000,
                               by_profile={"smoke": 1, "full": 60}),
    "max_train": Param(int, 300, "cap on training series (stratified; 0 = all)", low=0, high=10**7,
                       by_profile={"smoke": 96, "full": 0}),
    "quantile": Param(float, 0.98, "a unit fires above this quantile of its activations", low=0.5, high=0.9999),
    "iou_threshold": Param(float, 0.04, "a unit detects its best concept above this IoU (Bau et al.: 0.04)",
                           low=0.0, high=1.0),
    "records": Param(str, "dissection", "folder of the dissection sweep's run records (`sslts dissect`), under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
}


# The transfer chapter reads the committed records of `sslts transfer`; it trains nothing.
CHAPTERS["transfer"] = {
    "records": Param(str, "transfer", "folder of the transfer experiment's run records, under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
    "targets": Param(list, ["uwave", "har"], "targets shown (UWave, and UCI HAR for the reverse direction)",
                     choices=("uwave", "har")),
    "protocol": Param(str, "svm", "the frozen-encoder probe of the headline tables", choices=("linear", "svm", "knn")),
}


# NC-VQVAE: reads the committed records of `sslts vqvae` for its tables, and trains a tiny tokenizer
# and prior on a small UCR problem to show the model working (well under a minute in quick).
CHAPTERS["ncvqvae"] = {
    "records": Param(str, "vqvae", "folder of the NC-VQVAE sweep's run records, under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
    "dataset": Param(str, "SyntheticControl", "UCR problem of the live demonstration", pattern=DATASET_PATTERN),
    "ssl_loss": Param(str, "vibcreg", "NC-VQVAE's SSL loss in the demonstration", choices=("vibcreg", "barlow_twins")),
    "augmentation": Param(str, "window_warp", "the SSL branch's augmentation in the demonstration",
                          choices=("window_warp", "amplitude_resize", "slice_and_resize", "gaussian_noise")),
    "num_codes": Param(int, 32, "codebook size K", low=2, high=4096),
    "stage1_epochs": Param(int, 20, "epochs of the tokenizer (stage 1)", low=1, high=10_000,
                           by_profile={"smoke": 1, "full": 50}),
    "stage2_epochs": Param(int, 30, "epochs of the prior (stage 2)", low=1, high=10_000,
                           by_profile={"smoke": 1, "full": 100}),
    "device": Param(str, "auto", "compute device", pattern=r"auto|cpu|cuda(:\d+)?", check=_check_device),
}


# "When self-supervision pays" reads the committed records of `sslts scarce sweep`; it trains nothing.
CHAPTERS["scarce"] = {
    "records": Param(str, "scarce", "folder of the label-scarce study's run records, under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
}


# The cleaning chapter reads the committed records of `sslts cleaning`; it trains nothing.
CHAPTERS["cleaning"] = {
    "records": Param(str, "cleaning", "folder of the cleaning study's run records, under results/",
                     pattern=r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*"),
}
