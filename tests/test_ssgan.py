"""Tests of SS-GAN (sslts.methods.ssgan), its losses, and the Fréchet distance (sslts.evaluate.fidelity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sslts import losses
from sslts.augment import build_pipeline
from sslts.encoders import build_encoder
from sslts.evaluate.fidelity import (
    FidelityModel,
    fit_feature_extractor,
    frechet_distance,
    gaussian_frechet_distance,
    sample_quality,
)
from sslts.methods import METHODS, MethodContext, StepContext, build_method
from sslts.methods.ssgan import SSGAN, SSGANConfig, _frozen
from sslts.methods.ssgan_generator import SeriesGenerator
from sslts.methods.ssgan_transforms import TRANSFORMS, apply_transformations, balanced_labels, transform_group
from sslts.train import TrainConfig, pretrain

B, C, L = 8, 2, 24
# The whole batch per step (the default, 0.25, would leave 2 of these tests' 8 series).
TINY = {"latent_dim": 8, "gen_width": 16, "gen_upsamplings": 2, "batch_fraction": 1.0}


# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_gan(seed: int = 0, **overrides) -> SSGAN:
    torch.manual_seed(seed)
    encoder = build_encoder("cnn", C, channels=(8, 16))
    context = MethodContext((C, L), lambda c: build_encoder("cnn", c, channels=(8, 16)))
    return build_method("ssgan", encoder, {**TINY, **overrides}, context)


def cpu_step_context(max_grad_norm: float | None = None, augment=None, generator=None) -> StepContext:
    return StepContext.create("cpu", max_grad_norm=max_grad_norm, augment=augment, generator=generator)


# --- the transformation group ---------------------------------------------------------------


def test_transform_group_gives_identity_reversal_negation_and_both() -> None:
    x = torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]]])  # (1, 2, 3)
    original = x.clone()
    xt, labels = transform_group(x)
    assert xt.shape == (4, 2, 3) and labels.tolist() == [0, 1, 2, 3]
    assert xt[0].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]]
    assert xt[1].tolist() == [[3.0, 2.0, 1.0], [7.0, 5.0, 4.0]]  # each channel reversed in time
    assert xt[2].tolist() == [[-1.0, -2.0, -3.0], [-4.0, -5.0, -7.0]]
    assert xt[3].tolist() == [[-3.0, -2.0, -1.0], [-7.0, -5.0, -4.0]]
    assert torch.equal(x, original)  # the input is not modified


def test_transform_group_stacks_blocks_per_transformation() -> None:
    x = torch.randn(3, C, L)
    xt, labels = transform_group(x)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    torch.testing.assert_close(xt[3:6], x.flip(-1), rtol=0, atol=0)
    torch.testing.assert_close(xt[9:12], -x.flip(-1), rtol=0, atol=0)


def test_every_transformation_is_its_own_inverse_and_they_compose_as_a_group() -> None:
    x = torch.randn(4, C, L)
    for k in range(len(TRANSFORMS)):
        labels = torch.full((4,), k)
        twice = apply_transformations(apply_transformations(x, labels), labels)
        torch.testing.assert_close(twice, x, rtol=0, atol=0)
    # reversal then negation is the fourth element
    rev = apply_transformations(x, torch.full((4,), 1))
    torch.testing.assert_close(apply_transformations(rev, torch.full((4,), 2)),
                               apply_transformations(x, torch.full((4,), 3)), rtol=0, atol=0)


def test_apply_transformations_acts_per_series() -> None:
    x = torch.arange(12.0).reshape(4, 1, 3)
    out = apply_transformations(x, torch.tensor([0, 1, 2, 3]))
    assert out.squeeze(1).tolist() == [[0, 1, 2], [5, 4, 3], [-6, -7, -8], [-11, -10, -9]]


def test_balanced_labels_give_each_transformation_a_quarter() -> None:
    assert balanced_labels(6).tolist() == [0, 1, 2, 3, 0, 1]
    assert torch.bincount(balanced_labels(128)).tolist() == [32, 32, 32, 32]


def test_transformations_reject_bad_input() -> None:
    with pytest.raises(TypeError, match="torch.Tensor"):
        transform_group(np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match=r"\(B, C, L\)"):
        transform_group(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"labels must be \(2,\) integers in \[0, 4\)"):
        apply_transformations(torch.zeros(2, 1, 3), torch.tensor([0, 4]))


# --- the losses -----------------------------------------------------------------------------


def test_non_saturating_losses_match_hand_computed_values() -> None:
    ln3 = math.log(3.0)
    real, fake = torch.tensor([0.0, ln3]), torch.tensor([ln3])
    # sp(-0) = ln 2, sp(-ln 3) = ln(4/3); sp(ln 3) = ln 4
    expected_d = (math.log(2) + math.log(4 / 3)) / 2 + math.log(4)
    assert losses.gan_discriminator_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert losses.gan_generator_loss(fake).item() == pytest.approx(math.log(4 / 3), rel=1e-6)


def test_hinge_losses_match_hand_computed_values() -> None:
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.0])
    # real: relu(0.5) = 0.5, relu(-1) = 0 -> 0.25; fake: relu(-1) = 0, relu(1) = 1 -> 0.5
    assert losses.gan_discriminator_loss(real, fake, "hinge").item() == pytest.approx(0.75)
    assert losses.gan_generator_loss(torch.tensor([1.0, 3.0]), "hinge").item() == pytest.approx(-2.0)


def test_transformation_loss_is_the_cross_entropy() -> None:
    logits = torch.tensor([[0.0, math.log(3.0), 0.0, 0.0]])  # softmax: 1/6, 1/2, 1/6, 1/6
    assert losses.transformation_loss(logits, torch.tensor([1])).item() == pytest.approx(math.log(2))
    assert losses.transformation_loss(torch.zeros(5, 4), torch.arange(5) % 4).item() == pytest.approx(math.log(4))


def test_gan_losses_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=r"kind must be one of \['non_saturating', 'hinge'\]"):
        losses.gan_generator_loss(torch.zeros(2), "wasserstein")
    with pytest.raises(ValueError, match="real_logits must be a non-empty 1-D"):
        losses.gan_discriminator_loss(torch.zeros(2, 1), torch.zeros(2))
    with pytest.raises(TypeError, match="fake_logits must be a torch.Tensor"):
        losses.gan_generator_loss([0.0])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        losses.transformation_loss(torch.zeros(2, 4), torch.tensor([0, 4]))
    with pytest.raises(TypeError, match="integer tensor"):
        losses.transformation_loss(torch.zeros(2, 4), torch.zeros(2))


# --- the generator and the method -----------------------------------------------------------


@pytest.mark.parametrize(("channels", "length", "upsamplings"),
                         [(1, 1, 3), (3, 315, 3), (9, 128, 3), (2, 7, 2), (4, 10, 0)])
def test_generator_emits_series_of_the_data_shape(channels: int, length: int, upsamplings: int) -> None:
    gen = SeriesGenerator(6, channels, length, width=16, upsamplings=upsamplings)
    assert gen(torch.randn(3, 6)).shape == (3, channels, length)


def test_generator_rejects_bad_latent_codes_and_sizes() -> None:
    with pytest.raises(ValueError, match=r"z must have shape \(B, 6\)"):
        SeriesGenerator(6, 2, 10)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="must be positive"):
        SeriesGenerator(6, 0, 10)


def test_method_is_registered_and_needs_a_context() -> None:
    assert METHODS["ssgan"] is SSGAN and SSGAN.needs_context
    with pytest.raises(ValueError, match="needs a MethodContext"):
        build_method("ssgan", build_encoder("cnn", C), TINY)
    with pytest.raises(ValueError, match="input_shape must be"):
        SSGAN(build_encoder("cnn", C), SSGANConfig(), context=MethodContext((C,), lambda c: None))


def test_config_validation_names_the_field() -> None:
    assert SSGANConfig().alpha == 0.2 and SSGANConfig().beta == 1.0  # the paper's weights
    with pytest.raises(ValueError, match=r"unknown SSGANConfig field\(s\) \['gamma'\]"):
        SSGANConfig.from_dict({"gamma": 1.0})
    with pytest.raises(ValueError, match="SSGANConfig.alpha must be >= 0"):
        SSGANConfig(alpha=-0.1)
    with pytest.raises(ValueError, match=r"SSGANConfig.adam_beta1 must be in \[0, 1\)"):
        SSGANConfig(adam_beta1=1.0)
    with pytest.raises(ValueError, match="SSGANConfig.gan_loss must be one of"):
        SSGANConfig(gan_loss="wgan")
    with pytest.raises(ValueError, match="SSGANConfig.lr_g must be > 0"):
        SSGANConfig(lr_g=0.0)
    with pytest.raises(TypeError, match="SSGANConfig.latent_dim must be int"):
        SSGANConfig.from_dict({"latent_dim": 8.5})


def test_the_players_losses_are_built_from_the_pure_functions() -> None:
    gan = tiny_gan()
    g = torch.Generator().manual_seed(1)
    x, z = gan.make_views(torch.randn(B, C, L, generator=g), build_pipeline("jitter"), g)
    assert z.shape == (B, TINY["latent_dim"])
    torch.manual_seed(3)  # dropout in the trunk: replay the same masks below
    fake = gan.generator(z)
    d_loss, terms = gan.discriminator_loss(x, fake)
    assert {"d_loss", "transform_real", "transform_acc_real", "d_accuracy"} <= set(terms)
    torch.manual_seed(3)
    fake = gan.generator(z)
    labels = balanced_labels(B)
    batch = torch.cat([x, apply_transformations(x, labels), fake, apply_transformations(fake, labels)])
    gan_logits, tr_logits = gan.discriminate(batch)
    d = (losses.gan_discriminator_loss(gan_logits[:B], gan_logits[2 * B : 3 * B])
         + 1.0 * losses.transformation_loss(tr_logits[B : 2 * B], labels))
    assert terms["d_loss"] == pytest.approx(d.item(), rel=1e-6) and d_loss.item() == terms["d_loss"]
    gan.eval()  # one more pass: without dropout, the generator's loss is that of the same logits
    fake = gan.generator(z)
    g_loss, g_terms = gan.generator_loss(x, fake)
    gan_logits, tr_logits = gan.discriminate(torch.cat([x, apply_transformations(x, labels), fake,
                                                        apply_transformations(fake, labels)]))
    expected = (losses.gan_generator_loss(gan_logits[2 * B : 3 * B])
                + 0.2 * losses.transformation_loss(tr_logits[3 * B :], labels))
    assert {"g_loss", "transform_fake", "transform_acc_fake"} <= set(g_terms)
    assert g_terms["g_loss"] == pytest.approx(expected.item(), rel=1e-6) and g_loss.item() == g_terms["g_loss"]


def test_ssgan_has_no_single_objective_to_minimise() -> None:
    gan = tiny_gan()
    with pytest.raises(NotImplementedError, match="override step"):
        gan.training_step(torch.randn(B, C, L), torch.randn(B, TINY["latent_dim"]))


def test_each_players_step_updates_only_its_own_weights() -> None:
    gan = tiny_gan()
    opt_d, opt_g = gan.configure_optimizers(lr=1.0, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    x, z = gan.make_views(torch.randn(B, C, L, generator=g), build_pipeline("jitter"), g)
    ctx = cpu_step_context()
    d_params = {id(p) for p in gan.discriminator_parameters()}

    def snapshot() -> list[tuple[bool, torch.Tensor]]:
        return [(id(p) in d_params, p.detach().clone()) for p in gan.parameters()]

    def moved(before: list[tuple[bool, torch.Tensor]]) -> set[str]:
        return {"discriminator" if is_d else "generator"
                for (is_d, old), p in zip(before, gan.parameters()) if not torch.equal(old, p)}

    before = snapshot()
    d_loss, d_terms = gan.discriminator_step(x, gan.generator(z), opt_d, ctx)
    assert moved(before) == {"discriminator"} and not d_loss.requires_grad
    assert d_terms["d_loss"] == d_loss.item()
    before = snapshot()
    g_loss, g_terms = gan.generator_step(x, gan.generator(z), opt_g, ctx)
    assert moved(before) == {"generator"} and not g_loss.requires_grad
    assert g_terms["g_loss"] == g_loss.item()
    assert all(p.requires_grad for p in gan.parameters())  # the discriminator is unfrozen again


def test_step_returns_the_sum_of_both_losses_as_a_monitor_only() -> None:
    # The step's value is L_D + L_G (the loop logs it as "loss" and guards it against NaN), while
    # each player minimised its own loss: the same two steps taken one by one give the same weights.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(B, C, L, generator=g)
    whole, by_player = tiny_gan(), tiny_gan()
    views = whole.make_views(x, build_pipeline("jitter"), torch.Generator().manual_seed(1))
    torch.manual_seed(5)
    loss, terms = whole.step(views, whole.configure_optimizers(1e-3, 0.0), cpu_step_context())
    assert loss.item() == pytest.approx(terms["d_loss"] + terms["g_loss"], rel=1e-6)
    opt_d, opt_g = by_player.configure_optimizers(1e-3, 0.0)
    xs, z = views
    torch.manual_seed(5)
    fake = by_player.generator(z)
    by_player.discriminator_step(xs, fake, opt_d, cpu_step_context())
    by_player.generator_step(xs, fake, opt_g, cpu_step_context())
    for (k, a), b in zip(whole.state_dict().items(), by_player.state_dict().values()):
        assert torch.equal(a, b), k


def test_one_step_updates_both_players_and_gives_finite_terms() -> None:
    gan = tiny_gan()
    gan.train()
    before = {k: v.detach().clone() for k, v in gan.state_dict().items()}
    optimizers = gan.configure_optimizers(lr=1.0, weight_decay=0.5)  # the loop's values are unused
    assert [type(o).__name__ for o in optimizers] == ["Adam", "Adam"]
    assert optimizers[0].param_groups[0]["lr"] == gan.config.lr_d
    g = torch.Generator().manual_seed(0)
    views = gan.make_views(torch.randn(B, C, L, generator=g), build_pipeline("jitter"), g)
    loss, terms = gan.step(views, optimizers, cpu_step_context(max_grad_norm=10.0))
    assert torch.isfinite(loss) and all(math.isfinite(v) for v in terms.values())
    after = gan.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    for prefix in ("encoder.blocks.0.weight", "gan_head.", "transform_head.", "generator.project.weight",
                   "generator.blocks"):
        assert any(k.startswith(prefix) for k in changed), prefix
    assert all(p.requires_grad for p in gan.parameters())  # the discriminator is unfrozen again


def test_diff_augment_shows_the_discriminator_augmented_series_and_trains_the_generator_through_them() -> None:
    gan = tiny_gan(diff_augment=True)
    g = torch.Generator().manual_seed(1)
    x, z = gan.make_views(torch.randn(B, C, L, generator=g), build_pipeline("negation"), g)
    augment = cpu_step_context(augment=build_pipeline("negation"), generator=g).augmentation()
    gan.eval()  # no dropout or batch statistics: the two passes below must agree exactly
    fake = gan.generator(z)
    _, terms = gan.discriminator_loss(x, fake, augment)
    _, plain = gan.discriminator_loss(-x, -fake)  # negation with p = 1 is what augment does
    assert terms["d_loss"] == pytest.approx(plain["d_loss"], rel=1e-6)
    gan.train()
    g_loss, _ = gan.generator_loss(x, gan.generator(z), augment)
    g_loss.backward()
    assert gan.generator.project.weight.grad.abs().sum() > 0  # the gradient passes the augmentation
    assert len(gan.make_views(x, build_pipeline("negation"), g)) == 2  # views are tensors, never a function
    with pytest.raises(ValueError, match="no augmentation"):  # the step takes it from the loop's context
        gan.step((x, z), gan.configure_optimizers(1e-3, 0.0), cpu_step_context())


def test_r1_penalty_is_the_squared_gradient_norm_of_a_known_discriminator() -> None:
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    w = torch.tensor([2.0, 1.0])
    assert losses.r1_penalty(x @ w, x).item() == pytest.approx(5.0)  # linear: ||w||^2 = 4 + 1
    # d(x) = sum x^2 has gradient 2x: mean over rows of 4 ||x_i||^2 = (4 * 5 + 4 * 9.25) / 2
    assert losses.r1_penalty(x.pow(2).sum(1), x).item() == pytest.approx(28.5)
    with pytest.raises(ValueError, match="require gradients"):
        losses.r1_penalty(torch.zeros(2), torch.zeros(2, 2))


def test_r1_gamma_adds_half_gamma_times_the_penalty_to_the_discriminator_loss() -> None:
    gan = tiny_gan(r1_gamma=4.0).eval()  # eval: the two passes below see the same network
    g = torch.Generator().manual_seed(2)
    x, z = gan.make_views(torch.randn(B, C, L, generator=g), build_pipeline("jitter"), g)
    fake = gan.generator(z)
    with_r1, terms = gan.discriminator_loss(x, fake)
    plain = tiny_gan(r1_gamma=0.0).eval()
    plain.load_state_dict(gan.state_dict())
    without, plain_terms = plain.discriminator_loss(x, fake)
    assert "r1" in terms and "r1" not in plain_terms and terms["r1"] > 0
    assert with_r1.item() == pytest.approx(without.item() + 2.0 * terms["r1"], rel=1e-5)
    with_r1.backward()  # the penalty is differentiable in the weights (create_graph)
    assert gan.gan_head.parametrizations.weight.original.grad is not None


def test_minibatch_std_feeds_each_groups_spread_to_the_real_fake_head() -> None:
    gan = tiny_gan(minibatch_std=True).eval()
    x = torch.randn(2 * B, C, L, generator=torch.Generator().manual_seed(4))
    x[B:] = x[B]  # the second group: one series repeated, zero spread
    h = gan.encoder(x)
    spread = torch.stack([h[:B].std(0, unbiased=False).mean(), torch.tensor(1e-4)])  # sqrt(0 + 1e-8)
    expected = gan.gan_head(torch.cat([h, spread.repeat_interleave(B)[:, None]], 1)).squeeze(-1)
    logits, transform = gan.discriminate(x, groups=2)
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(transform, gan.transform_head(h))
    assert gan.gan_head.parametrizations.weight.original.shape == (1, gan.encoder.out_dim + 1)


def test_step_needs_two_optimizers() -> None:
    gan = tiny_gan()
    with pytest.raises(ValueError, match="two optimisers"):
        gan.step((torch.randn(B, C, L), torch.randn(B, 8)), gan.configure_optimizers(1e-3, 0)[:1],
                 cpu_step_context())


def test_frozen_restores_requires_grad_even_after_an_error() -> None:
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1), requires_grad=False)]
    with pytest.raises(RuntimeError), _frozen(params):
        assert not any(p.requires_grad for p in params)
        raise RuntimeError
    assert [p.requires_grad for p in params] == [True, False]


def test_training_through_the_loop_is_seeded_and_logs_both_players() -> None:
    X = np.random.default_rng(0).normal(size=(16, C, L)).astype(np.float32)
    config = TrainConfig(epochs=2, batch_size=8, warmup_epochs=1, progress=False, seed=5)
    results, weights = [], []
    for _ in range(2):
        gan = tiny_gan(seed=1)
        results.append(pretrain(gan, X, build_pipeline("jitter"), config))
        weights.append(gan.state_dict())
    first, second = results
    assert first.loss_history == second.loss_history and first.term_histories == second.term_histories
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert {"d_loss", "g_loss", "transform_real", "transform_fake"} <= set(first.term_histories)
    assert len(first.term_histories["g_loss"]) == 2
    other = tiny_gan(seed=1)
    pretrain(other, X, build_pipeline("jitter"), TrainConfig(**{**config.to_dict(), "seed": 6}))
    assert not torch.equal(other.generator.project.weight, weights[0]["generator.project.weight"])


def test_encode_is_the_trunk_and_sample_is_seeded() -> None:
    gan = tiny_gan().eval()
    x = torch.randn(B, C, L)
    torch.testing.assert_close(gan.encode(x), gan.encoder(x), rtol=0, atol=0)
    gan.generator.train()
    a = gan.sample(5, torch.Generator().manual_seed(0), batch_size=2)
    b = gan.sample(5, torch.Generator().manual_seed(0))
    assert a.shape == (5, C, L) and gan.generator.training  # its mode is restored
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="n must be a positive int"):
        gan.sample(0)


# --- the Fréchet distance -------------------------------------------------------------------


def test_gaussian_frechet_distance_matches_the_closed_form_for_diagonal_covariances() -> None:
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    # ||mu_a - mu_b||^2 + sum (sqrt(var_a) - sqrt(var_b))^2 = 5 + (1 + 1 + 4) = 11
    d = gaussian_frechet_distance(mu_a, np.diag(var_a), mu_b, np.diag(var_b))
    assert d == pytest.approx(11.0, rel=1e-9)


def test_gaussian_frechet_distance_is_rotation_invariant() -> None:
    theta = 0.7
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    cov_a, cov_b = rot @ np.diag([1.0, 4.0]) @ rot.T, rot @ np.diag([9.0, 1.0]) @ rot.T
    # commuting covariances: (sqrt 1 - sqrt 9)^2 + (sqrt 4 - sqrt 1)^2 = 4 + 1
    assert gaussian_frechet_distance(np.zeros(2), cov_a, np.zeros(2), cov_b) == pytest.approx(5.0, rel=1e-9)


def test_gaussian_frechet_distance_agrees_with_the_general_matrix_square_root() -> None:
    import scipy.linalg

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    cov_a, cov_b = a @ a.T + 0.1 * np.eye(4), b @ b.T + 0.1 * np.eye(4)
    mu_a, mu_b = rng.normal(size=4), rng.normal(size=4)
    reference = (np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(scipy.linalg.sqrtm(cov_a @ cov_b)).real)  # the FID reference formula
    assert gaussian_frechet_distance(mu_a, cov_a, mu_b, cov_b) == pytest.approx(reference, rel=1e-8)


def test_frechet_distance_of_samples_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 2)) * np.array([1.0, 2.0])
    b = rng.normal(size=(20000, 2)) * np.array([3.0, 1.0]) + np.array([1.0, 0.0])
    # 1 + (1 - 3)^2 + (2 - 1)^2 = 6
    assert frechet_distance(a, b) == pytest.approx(6.0, rel=0.03)


def test_frechet_distance_is_zero_for_identical_sets_symmetric_and_a_shifted_mean_squared() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 5)), rng.normal(size=(30, 5)) * 2
    assert frechet_distance(a, a.copy()) == 0.0
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    shift = np.array([1.0, 0.0, 2.0, 0.0, 0.0])
    assert frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-6)


def test_frechet_distance_handles_fewer_samples_than_dimensions() -> None:
    rng = np.random.default_rng(2)
    d = frechet_distance(rng.normal(size=(5, 20)), rng.normal(size=(6, 20)))
    assert math.isfinite(d) and d > 0


def test_frechet_distance_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"features_a must be a 2-D array \(n, D\) with n >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="same width"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((4, 3), np.nan), np.zeros((4, 3)))


def test_feature_extractor_and_sample_quality_table() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 12)
    X = (rng.normal(size=(24, C, L)) + 2.0 * y[:, None, None]).astype(np.float32)
    model = fit_feature_extractor(X, y, X, y, epochs=2, seed=0)
    assert isinstance(model, FidelityModel) and 0.0 <= model.test_accuracy <= 1.0
    assert model.features(X).shape == (24, model.encoder.out_dim)
    classes, confidence = model.predict(X[:5])
    assert classes.shape == (5,) and ((confidence > 0) & (confidence <= 1)).all()
    table = sample_quality(model, X, {"same": X, "noise": rng.normal(size=X.shape).astype(np.float32)})
    assert list(table.index) == ["same", "noise"] and table.loc["same", "frechet_distance"] == 0.0
    assert table.loc["noise", "frechet_distance"] > 0
    with pytest.raises(ValueError, match="candidate 'short'"):
        sample_quality(model, X, {"short": X[:, :, :5]})
