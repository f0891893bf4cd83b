#!/usr/bin/python3
"""PyTorch reference for metagrad's meta-learning benchmark (issue 6).

The same four workloads (sinusoid, omniglot, omniglot_strided, miniimagenet)
and three algorithms as build/bench/bench_meta, written
plainly in PyTorch so that bench/side_by_side.py can time both side by side.
Read next to the MAML paper (Finn, Abbeel & Levine 2017, arXiv:1703.03400,
Algorithm 2) and the Reptile paper (Nichol, Achiam & Schulman 2018,
arXiv:1803.02999, Algorithm 2):

  MAML, one meta-step on a batch of tasks T_1 ... T_n:
    for each task i:
      theta'_i = theta                                  (copy of the parameters)
      repeat k times:                                   (inner loop, eq. 1)
        theta'_i = theta'_i - alpha * grad L_Ti(f_theta'_i)   on the support set D_i
      L_i = L_Ti(f_theta'_i)                            on the query set D'_i
    theta = Adam(theta, grad_theta (1/n) sum_i L_i)     (outer step, line 10)

  * maml    differentiates through the inner gradients (create_graph=True), so
            the meta-gradient contains the second-order term (I - alpha H).
  * fomaml  treats every inner gradient as a constant (it is computed without
            a graph), so d theta'_i / d theta = I.
  * reptile runs k plain SGD steps from a copy W_i of theta on the support
            set, then theta = theta + eps * mean_i (W_i - theta), eps = 1.

Everything mirrors metagrad (meta/maml.cpp, meta/adapt.cpp, meta/reptile.cpp,
nn/models.cpp): the mean (not the sum) of the task losses is the meta-loss,
batch-norm always uses the statistics of the current batch (no running
averages), Reptile's meta-step also evaluates the adapted weights on the query
set (no gradient), as metagrad's Reptile::step does for its statistics.

Two forms of the same computation:

  loop  the tasks one after another in a Python loop; each task's
        meta-gradient is taken on its own and the gradients are summed (then
        divided by n). Closest to the paper and to metagrad.
  vec   the tasks all at once. Every parameter gets a leading task dimension
        (theta expanded to n copies), the MLP runs with torch.baddbmm and the
        conv net as one grouped convolution over the n tasks' images stacked
        along the channels. Because task i's loss depends only on slice i of
        the expanded parameters, the gradient of the *sum* of the task losses
        with respect to the expanded parameters is, slice by slice, each
        task's own inner gradient.

Modes:

  torch_ref.py --check
      Both forms on the same tasks and initial parameters in float64, one
      meta-step each, for every workload x algorithm x steps in {1, 2}:
      the meta-gradients (maml, fomaml) or the updated parameters (reptile)
      must agree to relative 1e-6. Also checks that maml's meta-gradient is a
      true gradient (central finite differences along random directions) and
      that it differs from fomaml's (the second-order term is really there).
      Exit status 1 on any disagreement.

  torch_ref.py --workload W --algo A --steps K --form loop|vec
               [--torch-threads T] [--warmup N] [--iters N] [--max-seconds S] [--json]
      Times meta-iterations like bench_meta: batches of tasks are made first
      (not timed) and cycled through; each timed iteration is one full
      meta-step including the outer Adam update (or Reptile's interpolation).
      Reports its/s = 1 / median, and the peak resident memory of the process
      (torch's import included). OpenBLAS's thread count can only be set
      through OPENBLAS_NUM_THREADS before torch is loaded; it is read from
      the environment and reported.

Only torch and the Python standard library are used.
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# Workloads: the model, its functional forward in both forms, the loss, data.
# ---------------------------------------------------------------------------

BN_EPS = 1e-5          # metagrad's BatchNorm2d default, and PyTorch's
SEED = 1


def uniform(shape, bound, gen, dtype):
    """A tensor of U(-bound, bound) entries."""
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).mul_(bound).to(dtype)


class Sinusoid:
    """Sinusoid regression (MAML paper, section 5.1).

    Model: MLP 1-40-40-1 with ReLU. Parameters, in order:
    [W1 (40,1), b1 (40), W2 (40,40), b2 (40), W3 (1,40), b3 (1)], y = x W^T + b.
    A task is y = A sin(x - phi), A ~ U[0.1, 5], phi ~ U[0, pi], x ~ U[-5, 5],
    10 support and 10 query points. Loss: mean squared error.
    """

    name = "sinusoid"
    meta_batch = 25
    inner_lr = 0.01
    outer_lr = 1e-3
    default_warmup = 2
    default_iters = 200
    max_batches = 256
    k_support = 10
    k_query = 10

    @staticmethod
    def init_params(gen, dtype):
        """PyTorch's default Linear initialisation: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        params = []
        for fan_in, fan_out in [(1, 40), (40, 40), (40, 1)]:
            bound = 1.0 / math.sqrt(fan_in)
            params.append(uniform((fan_out, fan_in), bound, gen, dtype))
            params.append(uniform((fan_out,), bound, gen, dtype))
        return params

    @staticmethod
    def sample_task(gen, dtype):
        amplitude = 0.1 + 4.9 * torch.rand((), generator=gen, dtype=torch.float64)
        phase = math.pi * torch.rand((), generator=gen, dtype=torch.float64)

        def points(n):
            x = -5.0 + 10.0 * torch.rand((n, 1), generator=gen, dtype=torch.float64)
            return x.to(dtype), (amplitude * torch.sin(x - phase)).to(dtype)

        xs, ys = points(Sinusoid.k_support)
        xq, yq = points(Sinusoid.k_query)
        return xs, ys, xq, yq

    # -- loop form: one task, parameters as in the model --------------------
    @staticmethod
    def forward(params, x):
        """x [N, 1] -> predictions [N, 1]."""
        w1, b1, w2, b2, w3, b3 = params
        h = F.relu(F.linear(x, w1, b1))
        h = F.relu(F.linear(h, w2, b2))
        return F.linear(h, w3, b3)

    @staticmethod
    def loss(pred, y):
        return F.mse_loss(pred, y)

    # -- vec form: n tasks, every parameter with a leading task dimension ----
    @staticmethod
    def forward_vec(params, x):
        """x [n, N, 1], W [n, out, in], b [n, out] -> predictions [n, N, 1].

        baddbmm(b, h, W^T) computes b + h W^T for every task in one call."""
        w1, b1, w2, b2, w3, b3 = params
        h = torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2)).relu()
        h = torch.baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2)).relu()
        return torch.baddbmm(b3.unsqueeze(1), h, w3.transpose(1, 2))

    @staticmethod
    def loss_vec(pred, y):
        """Each task's mean squared error, [n]."""
        return (pred - y).pow(2).mean(dim=(1, 2))


class Omniglot:
    """5-way 1-shot Omniglot-shaped classification (MAML paper, section 5.2).

    Model: conv4 = 4 x [conv 3x3, 64 filters, pad 1 -> batch-norm with the batch's
    statistics and a learned affine -> ReLU -> max-pool 2], flatten, linear to 5.
    28 -> 14 -> 7 -> 3 -> 1, so the linear layer sees 64 features.
    Parameters, in order: per block [conv W (64,C,3,3), conv b (64), bn gamma (64),
    bn beta (64)], then [W (5,64*side*side), b (5)].
    A task: 5 support images (one per class) and 75 query images (15 per class),
    1x28x28 of U[0, 1) pixels (synthetic: only the shapes matter for speed).
    Loss: cross-entropy.

    The other conv workloads are this class with other class attributes:
    OmniglotStrided (stride-2 convolutions instead of max-pooling) and
    MiniImageNet (32 filters on 3x84x84 images).
    """

    name = "omniglot"
    meta_batch = 32
    inner_lr = 0.4
    outer_lr = 1e-3
    default_warmup = 1
    default_iters = 3
    max_batches = 2
    ways = 5
    shots = 1
    queries = 15
    in_channels = 1
    side = 28              # input images are side x side
    channels = 64
    blocks = 4
    strided = False        # conv stride 2 and no max-pool (metagrad's omniglot_conv4(strided=true))

    @classmethod
    def feature_side(cls):
        """Side of the last feature map: each block halves it (pool 2: floor; conv stride 2 pad 1: ceil)."""
        side = cls.side
        for _ in range(cls.blocks):
            side = (side - 1) // 2 + 1 if cls.strided else side // 2
        return side

    @classmethod
    def init_params(cls, gen, dtype):
        """PyTorch's default Conv2d / Linear initialisation (U(-1/sqrt(fan_in), ..)),
        batch-norm gamma = 1, beta = 0."""
        params = []
        in_ch = cls.in_channels
        for _ in range(cls.blocks):
            bound = 1.0 / math.sqrt(in_ch * 9)
            params.append(uniform((cls.channels, in_ch, 3, 3), bound, gen, dtype))
            params.append(uniform((cls.channels,), bound, gen, dtype))
            params.append(torch.ones(cls.channels, dtype=dtype))
            params.append(torch.zeros(cls.channels, dtype=dtype))
            in_ch = cls.channels
        features = cls.channels * cls.feature_side() ** 2
        bound = 1.0 / math.sqrt(features)
        params.append(uniform((cls.ways, features), bound, gen, dtype))
        params.append(uniform((cls.ways,), bound, gen, dtype))
        return params

    @classmethod
    def sample_task(cls, gen, dtype):
        def labels(per_class):
            return torch.arange(cls.ways).repeat_interleave(per_class)

        n_s, n_q = cls.ways * cls.shots, cls.ways * cls.queries
        shape = (cls.in_channels, cls.side, cls.side)
        xs = torch.rand((n_s, *shape), generator=gen, dtype=torch.float64).to(dtype)
        xq = torch.rand((n_q, *shape), generator=gen, dtype=torch.float64).to(dtype)
        return xs, labels(cls.shots), xq, labels(cls.queries)

    @classmethod
    def block(cls, h, w, bias, gamma, beta, groups=1):
        """conv 3x3 pad 1 (stride 2 when strided) -> batch-norm (batch statistics) -> ReLU [-> max-pool 2]."""
        h = F.conv2d(h, w, bias, stride=2 if cls.strided else 1, padding=1, groups=groups)
        h = F.relu(F.batch_norm(h, None, None, gamma, beta, training=True, eps=BN_EPS))
        return h if cls.strided else F.max_pool2d(h, 2)

    # -- loop form ------------------------------------------------------------
    @classmethod
    def forward(cls, params, x):
        """x [N, C, side, side] -> logits [N, 5]."""
        h = x
        for b in range(cls.blocks):
            h = cls.block(h, *params[4 * b: 4 * b + 4])
        return F.linear(h.flatten(1), params[-2], params[-1])

    @staticmethod
    def loss(logits, y):
        return F.cross_entropy(logits, y)

    # -- vec form -------------------------------------------------------------
    @classmethod
    def forward_vec(cls, params, x):
        """x [n, N, C, side, side], conv W [n, 64, C, 3, 3], the rest [n, ...] -> logits [n, N, 5].

        The n tasks' images are stacked along the channels, [N, n*C, H, W], and
        one convolution with groups=n and weights [n*64, C, 3, 3] applies each
        task's filters to that task's channels only. Its output [N, n*64, H, W]
        has one channel per (task, filter): batch-norm over (N, H, W) per channel
        is exactly the per-task, per-channel batch-norm, with gamma and beta
        reshaped to [n*64]. At the end [N, n*64, h, w] is reshaped to
        [n, N, 64*h*w] (task i's channels are block i, in the order Flatten uses)
        for the per-task linear layer (baddbmm)."""
        n, N = x.shape[0], x.shape[1]
        h = x.transpose(0, 1).reshape(N, -1, x.shape[3], x.shape[4])
        for b in range(cls.blocks):
            w, bias, gamma, beta = params[4 * b: 4 * b + 4]
            h = cls.block(h, w.reshape(-1, *w.shape[2:]), bias.reshape(-1), gamma.reshape(-1), beta.reshape(-1),
                          groups=n)
        feats = h.reshape(N, n, -1).transpose(0, 1)                    # [n, N, 64*h*w]
        w, bias = params[-2], params[-1]
        return torch.baddbmm(bias.unsqueeze(1), feats, w.transpose(1, 2))

    @staticmethod
    def loss_vec(logits, y):
        """Each task's mean cross-entropy, [n]."""
        n, N = y.shape
        per_example = F.cross_entropy(logits.reshape(n * N, -1), y.reshape(-1), reduction="none")
        return per_example.reshape(n, N).mean(dim=1)


class OmniglotStrided(Omniglot):
    """Omniglot with the README's strided conv4: 4 x [conv 3x3, 64 filters, stride 2,
    pad 1 -> batch-norm -> ReLU], no pooling; 28 -> 14 -> 7 -> 4 -> 2, so the linear
    layer sees 64*2*2 = 256 features. Everything else as Omniglot."""

    name = "omniglot_strided"
    strided = True


class MiniImageNet(Omniglot):
    """5-way 1-shot MiniImageNet-shaped classification (MAML paper, section 5.2):
    conv4 with 32 filters and max-pool on 3x84x84 images, 84 -> 42 -> 21 -> 10 -> 5,
    so the linear layer sees 32*5*5 = 800 features. 15 queries per class, random
    pixels U[0, 1), meta-batch 4, inner lr 0.01, outer Adam 1e-3."""

    name = "miniimagenet"
    meta_batch = 4
    inner_lr = 0.01
    in_channels = 3
    side = 84
    channels = 32


WORKLOADS = {w.name: w for w in (Sinusoid, Omniglot, OmniglotStrided, MiniImageNet)}
ALGOS = ("maml", "fomaml", "reptile")


def make_batch(wl, n_tasks, gen, dtype):
    """n_tasks tasks, as a list of (xs, ys, xq, yq) for the loop form."""
    return [wl.sample_task(gen, dtype) for _ in range(n_tasks)]


def stack_batch(tasks):
    """The same tasks stacked along a new leading task dimension, for the vec form."""
    return tuple(torch.stack([t[j] for t in tasks]) for j in range(4))


# ---------------------------------------------------------------------------
# Loop form: one task at a time.
# ---------------------------------------------------------------------------

def adapt(wl, theta, x, y, lr, steps, second_order):
    """theta' after `steps` SGD steps on (x, y) (MAML paper, eq. 1), as a function of theta.

    second_order: the inner gradients are recorded (create_graph=True), so a later
    gradient through theta' includes d(grad L)/d theta (maml). Otherwise they are
    constants and d theta'/d theta = I (fomaml)."""
    params = list(theta)
    for _ in range(steps):
        support_loss = wl.loss(wl.forward(params, x), y)
        grads = torch.autograd.grad(support_loss, params, create_graph=second_order)
        params = [p - lr * g for p, g in zip(params, grads)]
    return params


def maml_meta_gradient_loop(wl, theta, tasks, lr, steps, first_order):
    """grad_theta (1/n) sum_i L_Ti(f_theta'_i), each task's gradient taken on its own and summed.

    Returns (meta-gradients, mean query loss)."""
    total = [torch.zeros_like(p) for p in theta]
    query_losses = []
    for xs, ys, xq, yq in tasks:
        adapted = adapt(wl, theta, xs, ys, lr, steps, second_order=not first_order)
        query_loss = wl.loss(wl.forward(adapted, xq), yq)
        grads = torch.autograd.grad(query_loss, theta)
        for acc, g in zip(total, grads):
            acc.add_(g)
        query_losses.append(query_loss.item())
    n = len(tasks)
    return [acc / n for acc in total], sum(query_losses) / n


def reptile_step_loop(wl, theta, tasks, lr, steps, epsilon=1.0):
    """theta <- theta + eps * mean_i (W_i - theta), W_i = k SGD steps from theta on task i's support set.

    Updates theta in place; returns the mean query loss of the W_i."""
    total = [torch.zeros_like(p) for p in theta]
    query_losses = []
    for xs, ys, xq, yq in tasks:
        w = [p.detach().clone().requires_grad_() for p in theta]
        for _ in range(steps):
            support_loss = wl.loss(wl.forward(w, xs), ys)
            grads = torch.autograd.grad(support_loss, w)
            with torch.no_grad():
                for wj, g in zip(w, grads):
                    wj.sub_(lr * g)
        with torch.no_grad():
            query_losses.append(wl.loss(wl.forward(w, xq), yq).item())
            for acc, wj in zip(total, w):
                acc.add_(wj)
    n = len(tasks)
    with torch.no_grad():
        for p, acc in zip(theta, total):
            p.add_(epsilon * (acc / n - p))
    return sum(query_losses) / n


# ---------------------------------------------------------------------------
# Vec form: all tasks at once, parameters with a leading task dimension.
# ---------------------------------------------------------------------------

def expand_to_tasks(theta, n):
    """Each parameter viewed n times, [n, *shape] (no copy; the gradient of anything
    computed from the views flows back to theta summed over the tasks)."""
    return [p.unsqueeze(0).expand(n, *p.shape) for p in theta]


def adapt_vec(wl, params, x, y, lr, steps, second_order):
    """adapt() for all tasks at once. The sum of the task losses is differentiated
    with respect to the per-task parameters: slice i of each gradient is task i's own."""
    for _ in range(steps):
        support_loss = wl.loss_vec(wl.forward_vec(params, x), y).sum()
        grads = torch.autograd.grad(support_loss, params, create_graph=second_order)
        params = [p - lr * g for p, g in zip(params, grads)]
    return params


def maml_meta_gradient_vec(wl, theta, batch, lr, steps, first_order):
    """The same meta-gradient as maml_meta_gradient_loop, in one graph for all tasks."""
    xs, ys, xq, yq = batch
    n = xs.shape[0]
    adapted = adapt_vec(wl, expand_to_tasks(theta, n), xs, ys, lr, steps, second_order=not first_order)
    query_losses = wl.loss_vec(wl.forward_vec(adapted, xq), yq)          # [n]
    grads = torch.autograd.grad(query_losses.sum() / n, theta)
    return list(grads), query_losses.mean().item()


def reptile_step_vec(wl, theta, batch, lr, steps, epsilon=1.0):
    """The same update as reptile_step_loop; the W_i are one tensor [n, *shape] per parameter."""
    xs, ys, xq, yq = batch
    n = xs.shape[0]
    w = [p.detach().unsqueeze(0).repeat(n, *([1] * p.dim())).requires_grad_() for p in theta]
    for _ in range(steps):
        support_loss = wl.loss_vec(wl.forward_vec(w, xs), ys).sum()
        grads = torch.autograd.grad(support_loss, w)
        with torch.no_grad():
            for wj, g in zip(w, grads):
                wj.sub_(lr * g)
    with torch.no_grad():
        query_loss = wl.loss_vec(wl.forward_vec(w, xq), yq).mean().item()
        for p, wj in zip(theta, w):
            p.add_(epsilon * (wj.mean(dim=0) - p))
    return query_loss


# ---------------------------------------------------------------------------
# One meta-step of either form, outer optimiser included.
# ---------------------------------------------------------------------------

class MetaLearner:
    """theta, the outer Adam (maml, fomaml) and one meta-step in the chosen form."""

    def __init__(self, wl, algo, steps, form, theta):
        self.wl, self.algo, self.steps, self.form = wl, algo, steps, form
        self.theta = [p.detach().clone().requires_grad_() for p in theta]
        self.outer = None
        if algo != "reptile":
            # Adam(lr = beta = 1e-3, betas (0.9, 0.999), eps 1e-8), as metagrad's nn::Adam.
            self.outer = torch.optim.Adam(self.theta, lr=wl.outer_lr)

    def meta_gradient(self, batch):
        """(meta-gradients, mean query loss) for maml / fomaml; nothing is updated."""
        fn = maml_meta_gradient_loop if self.form == "loop" else maml_meta_gradient_vec
        return fn(self.wl, self.theta, batch, self.wl.inner_lr, self.steps, self.algo == "fomaml")

    def step(self, batch):
        """One full meta-step on `batch` (a list of tasks for loop, stacked tensors for vec)."""
        if self.algo == "reptile":
            fn = reptile_step_loop if self.form == "loop" else reptile_step_vec
            return fn(self.wl, self.theta, batch, self.wl.inner_lr, self.steps)
        grads, loss = self.meta_gradient(batch)
        for p, g in zip(self.theta, grads):
            p.grad = g
        self.outer.step()
        return loss


# ---------------------------------------------------------------------------
# --check: the two forms agree, and maml's meta-gradient is the true gradient.
# ---------------------------------------------------------------------------

def max_rel_diff(a, b):
    """max over tensors j of |a_j - b_j|_inf / max(|b_j|_inf, 1e-6 G), G = max_k |b_k|_inf.

    The floor matters for tensors whose true value is zero: the conv biases of the
    conv net feed batch-norm, which subtracts the mean, so their gradients are zero
    in exact arithmetic and only rounding noise (~1e-17) in practice; they are
    compared at the scale of the largest gradient instead of their own."""
    big = max(y.abs().max().item() for y in b)
    worst = 0.0
    for x, y in zip(a, b):
        scale = max(y.abs().max().item(), 1e-6 * big, 1e-300)
        worst = max(worst, (x - y).abs().max().item() / scale)
    return worst


def meta_loss_loop(wl, theta, tasks, lr, steps):
    """(1/n) sum_i L_Ti(f_theta'_i), the function maml differentiates (no gradient kept)."""
    total = 0.0
    for xs, ys, xq, yq in tasks:
        adapted = adapt(wl, theta, xs, ys, lr, steps, second_order=False)
        with torch.no_grad():
            total += wl.loss(wl.forward(adapted, xq), yq).item()
    return total / len(tasks)


def run_check(meta_batch_conv=3, tol=1e-6, verbose=True, workloads=None):
    """All checks in float64 on the named workloads (default all); returns True when everything agrees.
    The conv workloads use meta-batches of at most meta_batch_conv tasks."""
    dtype = torch.float64
    ok = True
    results = []
    for wl in (WORKLOADS[w] for w in (workloads or WORKLOADS)):
        n = wl.meta_batch if wl is Sinusoid else min(wl.meta_batch, meta_batch_conv)
        gen = torch.Generator().manual_seed(SEED)
        theta0 = wl.init_params(gen, dtype)
        tasks = make_batch(wl, n, gen, dtype)
        stacked = stack_batch(tasks)
        for steps in (1, 2):
            mg = {}
            for algo in ALGOS:
                loop = MetaLearner(wl, algo, steps, "loop", theta0)
                vec = MetaLearner(wl, algo, steps, "vec", theta0)
                if algo == "reptile":
                    loss_l = loop.step(tasks)
                    loss_v = vec.step(stacked)
                    a, b = vec.theta, loop.theta
                    what = "updated parameters"
                else:
                    a_grads, loss_v = vec.meta_gradient(stacked)
                    b_grads, loss_l = loop.meta_gradient(tasks)
                    a, b = a_grads, b_grads
                    mg[algo] = b_grads
                    what = "meta-gradients"
                rel = max_rel_diff(a, b)
                loss_rel = abs(loss_v - loss_l) / max(abs(loss_l), 1e-300)
                good = rel <= tol and loss_rel <= tol
                ok &= good
                line = (f"check {wl.name:8s} {algo:7s} steps={steps} tasks={n}: loop vs vec {what} "
                        f"max rel diff {rel:.2e}, query loss rel diff {loss_rel:.2e} "
                        f"{'ok' if good else 'FAIL'}")
                results.append(line)
                if verbose:
                    print(line, flush=True)

            # maml's meta-gradient differs from fomaml's: the second-order term is present.
            diff = max_rel_diff(mg["fomaml"], mg["maml"])
            good = diff > 1e-4
            ok &= good
            line = (f"check {wl.name:8s} maml vs fomaml steps={steps}: max rel diff {diff:.2e} "
                    f"(must be > 1e-4) {'ok' if good else 'FAIL'}")
            if verbose:
                print(line, flush=True)

            # maml's meta-gradient is the gradient of the meta-loss: central differences
            # along 3 random unit directions v, (f(theta + h v) - f(theta - h v)) / 2h vs g . v.
            # The meta-loss of a ReLU / max-pool net is not continuous: the inner gradient
            # jumps where an activation crosses its kink, and so do the adapted weights. On
            # MiniImageNet's shapes one such jump lies within 1e-6 of theta0 along every
            # direction tried (f moves by 1.8e-5 between h = 1e-7 and 1e-6, the same in each
            # direction), so a difference straddling it measures the jump, not the slope.
            # Each direction takes the best of three step sizes; a gradient off by more than
            # the tolerance agrees at none of them.
            dgen = torch.Generator().manual_seed(SEED + steps)
            worst = 0.0
            gnorm = math.sqrt(sum((g * g).sum().item() for g in mg["maml"]))
            for _ in range(3):
                v = [torch.randn(p.shape, generator=dgen, dtype=dtype) for p in theta0]
                norm = math.sqrt(sum((x * x).sum().item() for x in v))
                v = [x / norm for x in v]
                an = sum((g * d).sum().item() for g, d in zip(mg["maml"], v))
                best = math.inf
                for h in (1e-5, 1e-6, 1e-7):
                    plus = [(p + h * d).requires_grad_() for p, d in zip(theta0, v)]
                    minus = [(p - h * d).requires_grad_() for p, d in zip(theta0, v)]
                    fd = (meta_loss_loop(wl, plus, tasks, wl.inner_lr, steps)
                          - meta_loss_loop(wl, minus, tasks, wl.inner_lr, steps)) / (2 * h)
                    best = min(best, abs(fd - an) / max(gnorm, 1e-300))
                    if best <= 1e-5:
                        break
                worst = max(worst, best)
            good = worst <= 1e-5
            ok &= good
            line = (f"check {wl.name:8s} maml steps={steps}: finite-difference directional derivative, "
                    f"max over directions of the best |fd - g.v| / |g| over h = 1e-5, 1e-6, 1e-7: {worst:.2e} "
                    f"(must be <= 1e-5) {'ok' if good else 'FAIL'}")
            if verbose:
                print(line, flush=True)
    return ok


# ---------------------------------------------------------------------------
# Timing mode.
# ---------------------------------------------------------------------------

def peak_rss_mb():
    """Peak resident memory of this process so far, MB = 2^20 bytes (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_meta_steps(args):
    wl = WORKLOADS[args.workload]
    warmup = wl.default_warmup if args.warmup is None else args.warmup
    iters = wl.default_iters if args.iters is None else args.iters
    gen = torch.Generator().manual_seed(SEED)
    theta = wl.init_params(gen, torch.float32)
    learner = MetaLearner(wl, args.algo, args.steps, args.form, theta)

    # The data is made before timing, in the layout each form consumes, and cycled through.
    n_batches = min(warmup + iters, wl.max_batches)
    print(f"torch_ref: sampling {n_batches} batches of {wl.meta_batch} tasks", file=sys.stderr)
    batches = []
    for _ in range(n_batches):
        tasks = make_batch(wl, wl.meta_batch, gen, torch.float32)
        batches.append(tasks if args.form == "loop" else stack_batch(tasks))

    seconds = []
    for it in range(warmup + iters):
        start = time.perf_counter()
        learner.step(batches[it % n_batches])
        s = time.perf_counter() - start
        timed = it >= warmup
        if s >= 1.0:
            print(f"torch_ref: {'iteration' if timed else 'warm-up'} {it}: {s:.2f} s", file=sys.stderr)
        if not timed:
            continue
        seconds.append(s)
        if args.max_seconds and sum(seconds) >= args.max_seconds:
            break
    median = statistics.median(seconds)
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    return {
        "workload": args.workload, "algo": args.algo, "steps": args.steps, "form": args.form,
        "torch_threads": torch.get_num_threads(),
        "openblas_threads": int(blas) if blas and blas.isdigit() else None,
        "its_per_s": 1.0 / median, "median_s": median, "timed_iters": len(seconds),
        "peak_rss_mb": peak_rss_mb(),
    }


def add_timing_options(p, warmup_help, iters_help, warmup=None, iters=None):
    """The timing flags of torch_ref.py and torch_nav_ref.py: --torch-threads, --warmup,
    --iters, --max-seconds and --json (the help texts name each program's defaults)."""
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (intra-op)")
    p.add_argument("--warmup", type=int, default=warmup, help=f"untimed iterations first ({warmup_help})")
    p.add_argument("--iters", type=int, default=iters, help=f"timed iterations ({iters_help})")
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="stop timing once the timed iterations took this long (at least 1 is timed)")
    p.add_argument("--json", action="store_true", help="one line of JSON")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="verify that the loop and vec forms agree (float64)")
    p.add_argument("--check-omniglot-tasks", type=int, default=3,
                   help="meta-batch of the checks of the conv workloads (at most their own)")
    p.add_argument("--check-workloads", help="comma-separated workloads to --check (default: all)")
    p.add_argument("--workload", choices=sorted(WORKLOADS))
    p.add_argument("--algo", choices=ALGOS)
    p.add_argument("--steps", type=int, help="inner steps (>= 1)")
    p.add_argument("--form", choices=("loop", "vec"), default="vec")
    add_timing_options(p, "default: sinusoid 2, the conv nets 1", "default: sinusoid 200, the conv nets 3")
    args = p.parse_args(argv)

    torch.set_num_interop_threads(1)
    torch.set_num_threads(max(1, args.torch_threads))
    if args.check:
        names = [w for w in (args.check_workloads or "").split(",") if w]
        unknown = [w for w in names if w not in WORKLOADS]
        if unknown:
            p.error(f"--check-workloads: unknown {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
        ok = run_check(args.check_omniglot_tasks, workloads=names)
        print("check: all agree" if ok else "check: FAILED", flush=True)
        return 0 if ok else 1
    if args.workload is None or args.algo is None or args.steps is None:
        p.error("--workload, --algo and --steps are required (or --check)")
    if args.steps < 1 or (args.iters is not None and args.iters < 1) or (args.warmup is not None and args.warmup < 0):
        p.error("--steps and --iters must be >= 1, --warmup >= 0")
    r = time_meta_steps(args)
    if args.json:
        print(json.dumps(r), flush=True)
    else:
        print(f"{r['workload']} {r['algo']} steps={r['steps']} form={r['form']} torch_threads={r['torch_threads']} "
              f"openblas_threads={r['openblas_threads']}: {r['its_per_s']:.2f} it/s (median {r['median_s']:.4g} s "
              f"over {r['timed_iters']}), peak RSS {r['peak_rss_mb']:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
