"""NC-VQVAE's remedies against codebook collapse: k-means start and dead-code restart."""

from __future__ import annotations

import pytest
import torch

from sslts.vqvae import VectorQuantizer, VQVAEConfig
from sslts.vqvae.quantizer import kmeans

pytestmark = pytest.mark.usefixtures("one_thread")

CENTRES = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])  # (4, 2)


def clusters(per: int = 50, spread: float = 0.1, seed: int = 0) -> torch.Tensor:
    """``per`` points around each of :data:`CENTRES`, as a latent sequence ``(1, D=2, T=4 per)``."""
    g = torch.Generator().manual_seed(seed)
    points = CENTRES.repeat_interleave(per, 0) + spread * torch.randn(4 * per, 2, generator=g)  # (4 per, 2)
    return points.T[None].contiguous()


def _sorted(rows: torch.Tensor) -> torch.Tensor:
    return rows[torch.argsort(rows[:, 0] * 100 + rows[:, 1])]


def test_kmeans_finds_the_cluster_means():
    z = clusters()[0].T  # (200, 2)
    means = torch.stack([z[i * 50:(i + 1) * 50].mean(0) for i in range(4)])
    for seed in range(5):  # k-means++ starts in four different clusters (separation 10, spread 0.1)
        centres, counts = kmeans(z, 4, generator=torch.Generator().manual_seed(seed))
        assert counts.tolist() == [50.0] * 4
        torch.testing.assert_close(_sorted(centres), _sorted(means))


def test_kmeans_plus_plus_with_fewer_distinct_rows_than_centres():
    z = torch.tensor([[1.0, 2.0]] * 3)  # every row the same: the extra centres coincide
    centres, counts = kmeans(z, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(centres, z[:1].expand(4, 2)) and counts.sum() == 3


def test_kmeans_init_places_the_codes_at_the_cluster_centres():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, kmeans_init=True, decay=0.99).train()
    x = clusters(spread=0.01)
    vq(x)
    assert not bool(vq.needs_init)
    torch.testing.assert_close(_sorted(vq.codebook), _sorted(CENTRES), atol=0.05, rtol=0)
    _, idx, terms = vq.eval()(x)
    assert terms["perplexity"] == pytest.approx(4.0)  # every code takes one cluster


def test_dead_codes_restart_until_every_code_is_used():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, decay=0.9, dead_threshold=1.0).train()
    vq.set_codebook(torch.tensor([[0.0, 0.0], [-50.0, -50.0], [-60.0, -60.0], [-70.0, -70.0]]))
    x = clusters(spread=0.01)
    _, idx, _ = vq.eval()(x)
    assert idx.unique().tolist() == [0]  # collapsed: three codes far from every vector
    vq.train()
    for _ in range(30):
        vq(x)
    assert vq.restarts >= 3
    _, idx, terms = vq.eval()(x)
    assert sorted(idx.unique().tolist()) == [0, 1, 2, 3]  # every code used after the restarts


def test_without_the_remedies_the_collapse_stays():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, decay=0.9).train()
    vq.set_codebook(torch.tensor([[0.0, 0.0], [-50.0, -50.0], [-60.0, -60.0], [-70.0, -70.0]]))
    for _ in range(30):
        vq(clusters(spread=0.01))
    assert vq.restarts == 0 and vq.eval()(clusters(spread=0.01))[1].unique().tolist() == [0]


def test_a_hand_set_codebook_is_not_replaced_and_eval_mode_does_not_initialise():
    vq = VectorQuantizer(4, 2, kmeans_init=True).eval()
    before = vq.codebook.clone()
    vq(clusters())
    assert torch.equal(vq.codebook, before) and bool(vq.needs_init)  # eval: nothing changes
    vq.set_codebook(CENTRES * 2)
    vq.train()(clusters())
    assert not bool(vq.needs_init)


def test_bad_threshold_and_config_fields_are_refused():
    with pytest.raises(ValueError, match="dead_threshold"):
        VectorQuantizer(4, 2, dead_threshold=-1.0)
    with pytest.raises(ValueError, match="dead_threshold"):
        VQVAEConfig(dead_threshold=float("nan"))
    with pytest.raises(ValueError, match="kmeans_init"):
        VQVAEConfig(kmeans_init=1)
    assert VQVAEConfig().kmeans_init and VQVAEConfig().dead_threshold == 1.0
