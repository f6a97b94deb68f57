"""Heads that sit between an encoder and a self-supervised loss, acting on embeddings ``(B, D)``.

- :func:`projection_mlp`: the projector / expander MLP of SimCLR, Barlow Twins, VICReg and VIbCReg.
- :class:`IterNorm`: group-wise whitening by Newton-Schulz iterations, the last layer of VIbCReg's
  projector.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def projection_mlp(
    in_dim: int,
    hidden_dim: int,
    out_dim: int,
    num_layers: int = 2,
    batch_norm: bool = True,
    last_bn: bool = False,
) -> nn.Sequential:
    """Projection MLP: ``num_layers - 1`` blocks ``Linear -> [BatchNorm] -> ReLU``, then ``Linear``.

    The projector ``g`` of SimCLR (Chen et al. 2020, two layers) and the expander of VICReg (Bardes,
    Ponce & LeCun 2022, three layers of 8192 with batch norm). ``last_bn`` appends a non-affine
    ``BatchNorm1d`` to the output, as SimSiam and SimCLR v2 do, so the loss sees standardised features.

    Args:
        in_dim: encoder output size. hidden_dim: width of every hidden layer. out_dim: output size.
        num_layers: number of ``Linear`` layers (>= 1); with 1 the head is a single ``Linear``.
        batch_norm: put ``BatchNorm1d`` after each hidden ``Linear``.
        last_bn: append ``BatchNorm1d(out_dim, affine=False)``.

    Returns:
        ``nn.Sequential`` mapping ``(B, in_dim)`` to ``(B, out_dim)``.

    Raises:
        ValueError: if a size or ``num_layers`` is smaller than 1.

    Example:
        >>> [type(layer).__name__ for layer in projection_mlp(128, 256, 64)]
        ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    """
    if min(in_dim, hidden_dim, out_dim) < 1:
        raise ValueError(
            f"dimensions must be positive, got in={in_dim}, hidden={hidden_dim}, out={out_dim}"
        )
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    layers: list[nn.Module] = []
    prev = in_dim
    for _ in range(num_layers - 1):
        layers.append(nn.Linear(prev, hidden_dim))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers.append(nn.ReLU())
        prev = hidden_dim
    layers.append(nn.Linear(prev, out_dim))
    if last_bn:
        layers.append(nn.BatchNorm1d(out_dim, affine=False))
    return nn.Sequential(*layers)


class IterNorm(nn.Module):
    """Iterative normalization: group-wise whitening with Newton-Schulz iterations.

    Huang, Zhou, Zhu, Liu & Shao (2019), "Iterative Normalization: Beyond Standardization towards
    Efficient Whitening", CVPR, Algorithm 1. The D features are split into ``num_groups`` groups of
    ``d = D / num_groups``; within each group, over the batch (``m = B`` samples)::

        mu = mean(x);  Sigma = 1/m (x - mu)(x - mu)^T + eps I;  Sigma_N = Sigma / tr(Sigma)
        P_0 = I;  P_k = 1/2 (3 P_{k-1} - P_{k-1}^3 Sigma_N),  k = 1..T
        W = P_T / sqrt(tr(Sigma))  (approximates Sigma^{-1/2});  x_hat = W (x - mu)

    ``P_k`` is computed in the equivalent, numerically stable coupled form (see ``_whitening_matrix``).

    Dividing by the trace puts the eigenvalues of ``Sigma_N`` in (0, 1], where the iteration converges;
    a small T (5) whitens only approximately, which Huang et al. argue is a useful middle ground
    between standardisation and full whitening. Training mode uses batch statistics and updates
    ``running_mean`` and ``running_wm`` by an exponential moving average; eval mode uses them, so a
    sample's output does not depend on the rest of the batch. VIbCReg (Lee & Aune 2021) puts it,
    with 64 groups and T = 5, at the end of its projector.

    Args:
        num_features: D. num_groups: number of groups; must divide D.
        T: Newton-Schulz iterations. eps: ridge added to each group covariance.
        momentum: weight of the new batch in the running averages. affine: learn a per-feature
            scale and shift applied after whitening.

    Raises:
        ValueError: on sizes that do not fit, or (in forward) input that is not ``(B, num_features)``
            or a training batch smaller than 2.

    Example:
        >>> out = IterNorm(8, num_groups=2)(torch.randn(32, 8))  # (32, 8), each group ~whitened
    """

    def __init__(
        self,
        num_features: int,
        num_groups: int = 64,
        T: int = 5,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
    ) -> None:
        super().__init__()
        if num_features < 1 or num_groups < 1 or num_features % num_groups != 0:
            raise ValueError(
                f"num_groups ({num_groups}) must be a positive divisor of num_features ({num_features})"
            )
        if T < 1:
            raise ValueError(f"T (number of iterations) must be >= 1, got {T}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.num_features, self.num_groups, self.T = num_features, num_groups, T
        self.group_size = num_features // num_groups
        self.eps, self.momentum = eps, momentum
        d = self.group_size
        self.register_buffer("running_mean", torch.zeros(num_groups, d, 1))
        self.register_buffer("running_wm", torch.eye(d).expand(num_groups, d, d).clone())
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _whitening_matrix(self, xc: Tensor) -> Tensor:
        """Newton-Schulz approximation of ``Sigma^{-1/2}`` for centred groups ``xc`` (G, d, m)."""
        g, d, m = xc.shape
        eye = torch.eye(d, dtype=xc.dtype, device=xc.device).expand(g, d, d)
        sigma = xc @ xc.transpose(1, 2) / m + self.eps * eye  # (G, d, d)
        trace = sigma.diagonal(dim1=1, dim2=2).sum(-1).reshape(g, 1, 1)  # (G, 1, 1)
        # Coupled Newton-Schulz (Higham 2008): Z_k equals Algorithm 1's P_k in exact arithmetic, but
        # the uncoupled P_k = (3P - P^3 Sigma_N) / 2 amplifies rounding errors once it has converged
        # (it diverged within 20 iterations in our tests); the coupled pair stays stable for any T.
        y, z = sigma / trace, eye  # Y_k -> Sigma_N^{1/2}, Z_k -> Sigma_N^{-1/2}
        for _ in range(self.T):
            step = 0.5 * (3.0 * eye - z @ y)
            y, z = y @ step, step @ z
        return z / trace.sqrt()  # (G, d, d)

    def forward(self, x: Tensor) -> Tensor:
        """Whiten ``x`` of shape ``(B, num_features)`` group by group; returns the same shape."""
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"IterNorm expects input (B, {self.num_features}), got {tuple(x.shape)}")
        b = x.shape[0]
        if self.training and b < 2:
            raise ValueError(f"IterNorm needs a batch of at least 2 in training mode, got {b}")
        # The iteration is precision-sensitive: under mixed precision, run it in the buffers' dtype.
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.to(self.running_mean.dtype)  # a new tensor or the same one, never written to
            xg = x.reshape(b, self.num_groups, self.group_size).permute(1, 2, 0)  # (G, d, B)
            if self.training:
                mean = xg.mean(dim=-1, keepdim=True)  # (G, d, 1)
                wm = self._whitening_matrix(xg - mean)  # (G, d, d)
                with torch.no_grad():
                    self.running_mean.lerp_(mean.detach(), self.momentum)
                    self.running_wm.lerp_(wm.detach(), self.momentum)
            else:
                mean, wm = self.running_mean, self.running_wm
            out = (wm @ (xg - mean)).permute(2, 0, 1).reshape(b, self.num_features)  # (B, D)
            if self.weight is not None:
                out = out * self.weight + self.bias
        return out

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_groups={self.num_groups}, T={self.T}, eps={self.eps}"
