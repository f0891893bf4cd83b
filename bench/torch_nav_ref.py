#!/usr/bin/python3
"""PyTorch reference of metagrad's meta-RL on 2-D navigation (issue 18, item 8).

The same algorithm as meta/nav_meta.cpp with its defaults (MAML paper, Finn, Abbeel &
Levine 2017, section 5.3 and Algorithm 3), written plainly in PyTorch and vectorised
over tasks x trajectories, so that bench/side_by_side.py can time a meta-iteration of
both side by side (workload "nav2d"):

  environment  n tasks x B trajectories of a point in the plane, all moved at once
               ([n, B, 2] tensors; a Python loop over the <= 100 moves only): start at
               the origin, p <- p + clip(a, -0.1, 0.1), reward -|p - g| after the move,
               a trajectory ends when |p - g| < 0.01 or after 100 moves; goals uniform
               in [-0.5, 0.5]^2 (datasets/navigation.h).
  policy       Gaussian MLP 2 -> 100 -> 100 -> 2 (ReLU) for the mean, a learned
               state-independent log std; parameters [log_std (2), W1 (100, 2), b1,
               W2 (100, 100), b2, W3 (2, 100), b3], the order of nn::GaussianPolicy.
               Every parameter carries a leading task dimension in the forward pass
               (theta viewed n times; torch.baddbmm per layer), so that the gradient of
               the sum of the task losses is, slice by slice, each task's own.
  inner step   REINFORCE: G_t discounted returns (gamma 0.99), the per-task linear
               feature baseline (features [p, p^2, t/100, (t/100)^2, (t/100)^3, 1] with
               p clipped to [-10, 10], ridge 1e-5, solved in float64), advantages
               A = G - b centred and scaled per task, L(theta) = -sum mask log pi A /
               sum mask, theta' = theta - 0.1 grad L, recorded (create_graph) for
               second-order MAML.
  meta-step    tau ~ pi_theta (20 trajectories per task), theta'_i, tau' ~ pi_theta'_i,
               meta-loss (1/n) sum_i L_tau'_i(theta'_i(theta)); the trajectories are data
               (no sampling-distribution term: metagrad's default, Note [The
               sampling-distribution term] in meta/nav_meta.h).
  outer step   TRPO: g = grad of the meta-loss; F v = grad of (grad KL . v) + 1e-5 v with
               KL the mean over tasks of the masked mean per-step KL from pi_theta'(theta_0)
               to pi_theta'(theta) on the post-update states, differentiated through the
               inner step; x = 10 conjugate-gradient iterations on F x = -g; step
               beta = sqrt(2 * 0.01 / x.Fx); backtracking by 0.8 (at most 15 times) until
               the importance-weighted post-update surrogate decreases and KL <= 0.01.
               meta-batch 20, 1 inner step.

One difference of implementation, not of algorithm: grad KL (with its graph) is built
once per meta-step and every product reuses it (retain_graph), as PyTorch MAML-RL code
usually does; metagrad rebuilds the KL and its first gradient for each product (nn/trpo.h,
hessian_vector_product). --hvp rebuild does the same here.

Modes:

  torch_nav_ref.py --check FIXTURE.json
      FIXTURE is written by `bench_meta --workload nav2d --algo maml --steps 1 --threads 1
      --nav-fixture FIXTURE.json`: metagrad's float64 parameters theta_0, the goals and
      every task's sampled trajectories of meta-step 0 (pre- and post-update: positions,
      actions as sampled, rewards, mask), and what metagrad computed from them: each
      task's adapted parameters theta'_i and post-update surrogate, the second- and
      first-order meta-gradients, and theta after the TRPO step. This reference gets the
      same numbers by being fed the same actions: it replays them through its own
      environment (positions, rewards and mask must match) and runs its own inner step,
      meta-gradient and TRPO step on those trajectories from the same theta_0, in
      float64. Every quantity must agree to relative 1e-8, the TRPO step to 1e-6: the
      conjugate-gradient solve with damping 1e-5 amplifies rounding about 1e5-fold
      (measured on the fixture: perturbing g by a relative 1e-13 moves the new theta by
      6e-9 and its KL by 2e-9). Exit status 1 otherwise.

  torch_nav_ref.py --workload nav2d --algo maml|fomaml --steps 1 [--torch-threads T]
                   [--warmup N] [--iters N] [--max-seconds S] [--json] [--hvp reuse|rebuild]
      Times meta-iterations like bench_meta --workload nav2d: meta-step s samples tasks
      s*20 ... s*20 + 19 (goals and noise from a fixed seed), adapts, and takes the TRPO
      step; sampling is part of the timed iteration on both sides. Reports its/s =
      1 / median and the peak resident memory of the process. The JSON line has
      bench_meta's keys (gflops null) plus form, torch_threads, openblas_threads and
      timed_cpu_s (the process CPU seconds of the timed iterations, all threads: on a
      loaded machine only the wall time is inflated much).

Only torch, the Python standard library and bench/torch_ref.py (its timing flags and
peak_rss_mb) are used.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch

from torch_ref import add_timing_options, peak_rss_mb  # the supervised workloads' reference, beside this file

# ---------------------------------------------------------------------------
# Settings (metagrad's defaults: data::NavConfig, meta::NavMetaOptions, nn::TrpoOptions).
# ---------------------------------------------------------------------------

GOAL_RANGE = 0.5
MAX_STEP = 0.1
GOAL_RADIUS = 0.01
SEED = 1


class Settings:
    def __init__(self, meta_batch=20, trajectories=20, horizon=100, inner_lr=0.1, discount=0.99, ridge=1e-5,
                 max_kl=0.01, cg_iterations=10, damping=1e-5, backtrack_ratio=0.8, max_backtracks=15,
                 first_order=False, hvp="reuse"):
        self.meta_batch, self.trajectories, self.horizon = meta_batch, trajectories, horizon
        self.inner_lr, self.discount, self.ridge = inner_lr, discount, ridge
        self.max_kl, self.cg_iterations, self.damping = max_kl, cg_iterations, damping
        self.backtrack_ratio, self.max_backtracks = backtrack_ratio, max_backtracks
        self.first_order, self.hvp = first_order, hvp


# ---------------------------------------------------------------------------
# The environment, vectorised over tasks x trajectories.
# ---------------------------------------------------------------------------

def env_move(pos, running, actions, goals):
    """One move of every trajectory: pos [n, B, 2], running [n, B] (bool), actions [n, B, 2],
    goals [n, 2]. Returns (new positions, rewards [n, B], still running). Ended trajectories
    stay where they are and get reward 0."""
    on = running.unsqueeze(-1).to(pos.dtype)
    pos = pos + actions.clamp(-MAX_STEP, MAX_STEP) * on
    dist = (pos - goals.unsqueeze(1)).norm(dim=-1)
    rewards = -dist * running.to(pos.dtype)
    return pos, rewards, running & (dist >= GOAL_RADIUS)


def rollout(params, goals, trajectories, horizon, gen, dtype):
    """Samples `trajectories` trajectories of each task from the per-task policies `params`
    ([n, ...] each, no gradient). Returns a dict of obs [n, B, T, 2], actions [n, B, T, 2]
    (as sampled, before clipping), rewards [n, B, T] and mask [n, B, T], T the moves made
    (the rows of ended trajectories are 0, as datasets/navigation.h's NavRollout)."""
    n = goals.shape[0]
    pos = torch.zeros(n, trajectories, 2, dtype=dtype)
    running = torch.ones(n, trajectories, dtype=torch.bool)
    std = params[0].exp().unsqueeze(1)  # [n, 1, 2]
    obs, act, rew, mask = [], [], [], []
    with torch.no_grad():
        for _ in range(horizon):
            if not running.any():
                break
            noise = torch.randn(n, trajectories, 2, generator=gen, dtype=dtype)
            a = policy_mean(params, pos) + std * noise
            on = running.to(dtype)
            obs.append(pos * on.unsqueeze(-1))
            act.append(a * on.unsqueeze(-1))
            mask.append(on)
            pos, r, running = env_move(pos, running, a, goals)
            rew.append(r)
    return {"obs": torch.stack(obs, 2), "actions": torch.stack(act, 2), "rewards": torch.stack(rew, 2),
            "mask": torch.stack(mask, 2)}


# ---------------------------------------------------------------------------
# The policy: every parameter [n, ...], one slice per task.
# ---------------------------------------------------------------------------

def init_params(gen, dtype):
    """PyTorch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); log std 0."""
    params = [torch.zeros(2, dtype=dtype)]
    for fan_in, fan_out in [(2, 100), (100, 100), (100, 2)]:
        bound = 1.0 / math.sqrt(fan_in)
        for shape in [(fan_out, fan_in), (fan_out,)]:
            params.append(((torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound).to(dtype))
    return params


def expand_to_tasks(theta, n):
    """Each parameter viewed n times, [n, *shape]: gradients flow back to theta summed over tasks."""
    return [p.unsqueeze(0).expand(n, *p.shape) for p in theta]


def policy_mean(params, x):
    """x [n, M, 2] -> mu [n, M, 2]; baddbmm(b, h, W^T) = b + h W^T for every task at once."""
    _, w1, b1, w2, b2, w3, b3 = params
    h = torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2)).relu()
    h = torch.baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2)).relu()
    return torch.baddbmm(b3.unsqueeze(1), h, w3.transpose(1, 2))


def distribution(params, r):
    """(mu [n, B, T, 2], log std [n, 1, 1, 2]) on a rollout's states."""
    n, b, t, _ = r["obs"].shape
    mu = policy_mean(params, r["obs"].reshape(n, b * t, 2)).reshape(n, b, t, 2)
    return mu, params[0].reshape(n, 1, 1, 2)


def log_prob(params, r):
    """log pi(a | s) per step, [n, B, T], summed over the action's coordinates."""
    mu, log_std = distribution(params, r)
    z = (r["actions"] - mu) * (-log_std).exp()
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_kl(p, q):
    """KL(p || q) per step of two (mu, log std) pairs, summed over the coordinates."""
    (mp, lp), (mq, lq) = p, q
    ratio = ((2 * lp).exp() + (mp - mq) ** 2) * (-2 * lq).exp()
    return (lq - lp + 0.5 * ratio - 0.5).sum(-1)


# ---------------------------------------------------------------------------
# REINFORCE with the linear feature baseline, per task.
# ---------------------------------------------------------------------------

def advantages(r, s):
    """A [n, B, T] of a rollout (constants): discounted returns minus the per-task ridge fit
    of the linear feature baseline, centred and scaled over each task's masked steps."""
    rew, mask, obs = r["rewards"].double(), r["mask"].double(), r["obs"].double()
    n, b, t = mask.shape
    k = torch.arange(t, dtype=torch.float64)
    # G = rewards @ D, D[k, t] = gamma^(k - t) for k >= t (rewards past a trajectory's end are 0).
    lag = k.unsqueeze(1) - k.unsqueeze(0)
    discount = s.discount ** lag.clamp(min=0.0) * (lag >= 0)
    returns = (rew @ discount) * mask
    p = obs.clamp(-10.0, 10.0)
    al = (k / 100.0).reshape(1, 1, t, 1).expand(n, b, t, 1)
    phi = torch.cat([p, p * p, al, al ** 2, al ** 3, torch.ones_like(al)], -1).reshape(n, b * t, 8)
    m = mask.reshape(n, b * t, 1)
    ata = (phi * m).transpose(1, 2) @ phi + s.ridge * torch.eye(8, dtype=torch.float64)
    atb = (phi * m).transpose(1, 2) @ returns.reshape(n, b * t, 1)
    w = torch.linalg.solve(ata, atb)
    baseline = (phi @ w).reshape(n, b, t) * mask
    steps = mask.sum((1, 2), keepdim=True)
    a = (returns - baseline) * mask
    mean = a.sum((1, 2), keepdim=True) / steps
    var = (((a - mean) * mask) ** 2).sum((1, 2), keepdim=True) / steps
    a = (a - mean) / (var.sqrt() + 1e-8) * mask
    return a.to(r["rewards"].dtype)


def surrogate(params, r, adv):
    """L per task, [n]: -sum mask log pi A / sum mask."""
    return -(log_prob(params, r) * adv * r["mask"]).sum((1, 2)) / r["mask"].sum((1, 2))


def adapt(params, r, adv, s, create_graph):
    """theta' = theta - alpha grad L_tau(theta), per task (the sum's gradient, slice by slice)."""
    grads = torch.autograd.grad(surrogate(params, r, adv).sum(), params, create_graph=create_graph)
    return [p - s.inner_lr * g for p, g in zip(params, grads)]


# ---------------------------------------------------------------------------
# One meta-step: sampling, the meta-gradient, TRPO.
# ---------------------------------------------------------------------------

def sample_batch(theta, goals, s, gen):
    """The pre- and post-update trajectories of every task (noise from gen, in a fixed order)."""
    n = goals.shape[0]
    params = expand_to_tasks([p.detach() for p in theta], n)
    pre = rollout(params, goals, s.trajectories, s.horizon, gen, theta[0].dtype)
    pre["adv"] = advantages(pre, s)
    with torch.enable_grad():
        leaves = [p.detach().requires_grad_() for p in params]
        adapted = [p.detach() for p in adapt(leaves, pre, pre["adv"], s, False)]
    post = rollout(adapted, goals, s.trajectories, s.horizon, gen, theta[0].dtype)
    post["adv"] = advantages(post, s)
    return pre, post


def adapted_params(theta, pre, s, create_graph):
    return adapt(expand_to_tasks(theta, pre["mask"].shape[0]), pre, pre["adv"], s, create_graph)


def meta_gradient(theta, pre, post, s):
    """(grad of (1/n) sum_i L_tau'_i(theta'_i(theta)), the adapted parameters, per-task losses)."""
    adapted = adapted_params(theta, pre, s, not s.first_order)
    losses = surrogate(adapted, post, post["adv"])
    g = torch.autograd.grad(losses.mean(), theta)
    return list(g), adapted, losses


def dot(a, b):
    return sum((x * y).sum() for x, y in zip(a, b))


def conjugate_gradient(f, b, iterations, tolerance=1e-10):
    """nn::conjugate_gradient: x with F x = b, from x = 0; stops early at a small residual or
    at a direction of non-positive curvature."""
    x = [torch.zeros_like(t) for t in b]
    r = [t.clone() for t in b]
    p = [t.clone() for t in b]
    rr = dot(r, r).item()
    for _ in range(iterations):
        if not rr > tolerance:
            break
        ap = f(p)
        pap = dot(p, ap).item()
        if not pap > 0.0:
            break
        alpha = rr / pap
        x = [xi + alpha * pi for xi, pi in zip(x, p)]
        r = [ri - alpha * ai for ri, ai in zip(r, ap)]
        rr_next = dot(r, r).item()
        p = [ri + (rr_next / rr) * pi for ri, pi in zip(r, p)]
        rr = rr_next
    return x


def trpo_step(theta, pre, post, g, s):
    """The TRPO step of meta/nav_meta.cpp (NavMetaLearner::trpo_update) from theta_0 = theta.
    Returns (new parameters, accepted, KL of the step taken)."""
    theta0 = [p.detach() for p in theta]
    mask = post["mask"]
    with torch.enable_grad():
        leaves = [p.clone().requires_grad_() for p in theta0]
        old = [p.detach() for p in adapted_params(leaves, pre, s, False)]
    with torch.no_grad():
        old_dist = distribution(old, post)
        old_log_prob = log_prob(old, post)

    def kl_of(th, create_graph):
        adapted = adapted_params(th, pre, s, create_graph)
        per_task = (gaussian_kl(old_dist, distribution(adapted, post)) * mask).sum((1, 2)) / mask.sum((1, 2))
        return per_task

    def kl_gradient():
        leaves = [p.clone().requires_grad_() for p in theta0]
        kl = kl_of(leaves, not s.first_order).mean()
        return leaves, torch.autograd.grad(kl, leaves, create_graph=True)

    shared = kl_gradient() if s.hvp == "reuse" else None

    def fisher(v):
        leaves, gk = shared if shared is not None else kl_gradient()
        hv = torch.autograd.grad(dot(gk, v), leaves, retain_graph=shared is not None)
        return [h.detach() + s.damping * vi for h, vi in zip(hv, v)]

    x = conjugate_gradient(fisher, [-t for t in g], s.cg_iterations)
    xfx = dot(x, fisher(x)).item()
    if not (xfx > 0.0 and math.isfinite(xfx)):
        return theta0, False, 0.0

    def at(th):
        """(mean importance-weighted surrogate, mean KL) at th, values only."""
        leaves = [p.clone().requires_grad_() for p in th]
        with torch.enable_grad():
            adapted = [p.detach() for p in adapted_params(leaves, pre, s, False)]
        with torch.no_grad():
            ratio = (log_prob(adapted, post) - old_log_prob).exp()
            loss = -(ratio * post["adv"] * mask).sum((1, 2)) / mask.sum((1, 2))
            kl = (gaussian_kl(old_dist, distribution(adapted, post)) * mask).sum((1, 2)) / mask.sum((1, 2))
        return loss.mean().item(), kl.mean().item()

    loss_before, _ = at(theta0)
    scale = math.sqrt(2.0 * s.max_kl / xfx)
    for _ in range(s.max_backtracks + 1):
        candidate = [p + scale * xi for p, xi in zip(theta0, x)]
        loss, kl = at(candidate)
        if loss < loss_before and kl <= s.max_kl:
            return candidate, True, kl
        scale *= s.backtrack_ratio
    return theta0, False, 0.0


def meta_step(theta, goals, s, gen):
    """One meta-iteration: sample, meta-gradient, TRPO. Returns the new parameters."""
    pre, post = sample_batch(theta, goals, s, gen)
    leaves = [p.detach().requires_grad_() for p in theta]
    g, _, _ = meta_gradient(leaves, pre, post, s)
    new, _, _ = trpo_step(leaves, pre, post, g, s)
    return new


# ---------------------------------------------------------------------------
# --check against metagrad's fixture.
# ---------------------------------------------------------------------------

def rel_diff(a, b):
    """max |a - b| / max(|b|, 1e-12) over all entries of lists of tensors (b the reference)."""
    worst = 0.0
    for x, y in zip(a, b):
        scale = max(y.abs().max().item(), 1e-12)
        worst = max(worst, (x - y).abs().max().item() / scale)
    return worst


def tensor(d):
    """A fixture's {"shape": [...], "data": [...]} as a float64 tensor."""
    return torch.tensor(d["data"], dtype=torch.float64).reshape(d["shape"])


def padded(tasks, key, t_max):
    """Stacks the tasks' rollouts (each [B, T_i, ...], metagrad's own length) padded to t_max."""
    out = []
    for task in tasks:
        x = tensor(task[key])
        pad = [0, 0] * (x.dim() - 2) + [0, t_max - x.shape[1]]
        out.append(torch.nn.functional.pad(x, pad))
    return torch.stack(out)


def replay(goals, r):
    """Runs the environment on a rollout's actions; returns its own obs, rewards and mask."""
    n, b, t, _ = r["actions"].shape
    pos = torch.zeros(n, b, 2, dtype=torch.float64)
    running = torch.ones(n, b, dtype=torch.bool)
    obs, rew, mask = [], [], []
    for k in range(t):
        on = running.to(torch.float64)
        obs.append(pos * on.unsqueeze(-1))
        mask.append(on)
        pos, reward, running = env_move(pos, running, r["actions"][:, :, k], goals)
        rew.append(reward)
    return torch.stack(obs, 2), torch.stack(rew, 2), torch.stack(mask, 2)


def run_check(path, tol=1e-8, trpo_tol=1e-6):
    with open(path) as f:
        fx = json.load(f)
    o = fx["options"]
    s = Settings(meta_batch=o["meta_batch"], trajectories=o["trajectories"], horizon=o["horizon"],
                 inner_lr=o["inner_lr"], discount=o["discount"], ridge=o["baseline_ridge"], max_kl=o["max_kl"],
                 cg_iterations=o["cg_iterations"], damping=o["damping"], backtrack_ratio=o["backtrack_ratio"],
                 max_backtracks=o["max_backtracks"])
    theta0 = [tensor(p) for p in fx["theta"]]
    goals = torch.tensor(fx["goals"], dtype=torch.float64)
    rollouts = {}
    for which in ("pre", "post"):
        tasks = [t[which] for t in fx["tasks"]]
        t_max = max(t["mask"]["shape"][1] for t in tasks)
        rollouts[which] = {k: padded(tasks, k, t_max) for k in ("obs", "actions", "rewards", "mask")}
    pre, post = rollouts["pre"], rollouts["post"]
    ok = True

    def report(what, diff, bound=tol):
        nonlocal ok
        good = diff <= bound
        ok &= good
        print(f"check nav2d {what}: max rel diff {diff:.2e} (<= {bound:g}) {'ok' if good else 'FAIL'}", flush=True)

    # The environment: the same actions give the same states, rewards and mask.
    env_diff = 0.0
    for r in (pre, post):
        obs, rew, mask = replay(goals, r)
        env_diff = max(env_diff, rel_diff([obs, rew, mask], [r["obs"], r["rewards"], r["mask"]]))
    report("environment replayed from metagrad's actions (positions, rewards, mask)", env_diff)

    pre["adv"], post["adv"] = advantages(pre, s), advantages(post, s)
    leaves = [p.clone().requires_grad_() for p in theta0]
    g, adapted, losses = meta_gradient(leaves, pre, post, s)
    for i, task in enumerate(fx["tasks"]):
        want = [tensor(p) for p in task["adapted"]]
        report(f"task {i}: inner-adapted parameters theta'", rel_diff([p[i].detach() for p in adapted], want))
    report("post-update surrogate per task",
           rel_diff([losses.detach()], [torch.tensor([t["loss"] for t in fx["tasks"]], dtype=torch.float64)]))
    report("second-order meta-gradient", rel_diff(g, [tensor(x) for x in fx["meta_gradient"]]))
    fo = Settings(**{**vars(s), "first_order": True})
    g1, _, _ = meta_gradient([p.clone().requires_grad_() for p in theta0], pre, post, fo)
    report("first-order meta-gradient",
           rel_diff(g1, [tensor(x) for x in fx["meta_gradient_first_order"]]))
    gap = rel_diff(g1, g)
    good = gap > 1e-4
    ok &= good
    print(f"check nav2d second- vs first-order meta-gradient: max rel diff {gap:.2e} (must be > 1e-4) "
          f"{'ok' if good else 'FAIL'}", flush=True)
    for hvp in ("reuse", "rebuild"):
        s.hvp = hvp
        new, accepted, kl = trpo_step([p.clone() for p in theta0], pre, post, [x.detach() for x in g], s)
        want = [tensor(x) for x in fx["theta_after"]]
        good = accepted == fx["accepted"]
        ok &= good
        print(f"check nav2d TRPO step ({hvp} grad KL): accepted {accepted}, metagrad {fx['accepted']} "
              f"{'ok' if good else 'FAIL'}", flush=True)
        report(f"TRPO step ({hvp} grad KL): theta after the step", rel_diff(new, want), trpo_tol)
        report(f"TRPO step ({hvp} grad KL): its KL", rel_diff([torch.tensor([kl])], [torch.tensor([fx['kl']])]),
               trpo_tol)
    return ok


# ---------------------------------------------------------------------------
# Timing mode.
# ---------------------------------------------------------------------------

def time_meta_steps(args):
    s = Settings(first_order=args.algo == "fomaml", hvp=args.hvp)
    gen = torch.Generator().manual_seed(SEED)
    theta = init_params(gen, torch.float32)
    seconds, cpu = [], 0.0
    for it in range(args.warmup + args.iters):
        goals = ((torch.rand(s.meta_batch, 2, generator=gen, dtype=torch.float64) * 2 - 1) * GOAL_RANGE)
        start, cpu_start = time.perf_counter(), time.process_time()
        theta = meta_step(theta, goals.float(), s, gen)
        sec = time.perf_counter() - start
        timed = it >= args.warmup
        if sec >= 1.0:
            print(f"torch_nav_ref: {'iteration' if timed else 'warm-up'} {it}: {sec:.2f} s", file=sys.stderr)
        if not timed:
            continue
        seconds.append(sec)
        cpu += time.process_time() - cpu_start
        if args.max_seconds and sum(seconds) >= args.max_seconds:
            break
    median = statistics.median(seconds)
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    return {"workload": "nav2d", "algo": args.algo, "steps": args.steps, "threads": torch.get_num_threads(),
            "its_per_s": 1.0 / median, "median_s": median, "timed_iters": len(seconds),
            "peak_rss_mb": peak_rss_mb(), "gflops": None, "timed_cpu_s": cpu, "form": "vec",
            "torch_threads": torch.get_num_threads(),
            "openblas_threads": int(blas) if blas and blas.isdigit() else None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", metavar="FIXTURE", help="compare with metagrad's fixture (bench_meta --nav-fixture)")
    p.add_argument("--workload", choices=("nav2d",))
    p.add_argument("--algo", choices=("maml", "fomaml"))
    p.add_argument("--steps", type=int, help="inner steps (only 1)")
    p.add_argument("--form", choices=("vec",), default="vec", help="the only form: tasks x trajectories at once")
    add_timing_options(p, "default 1", "default 3", warmup=1, iters=3)
    p.add_argument("--hvp", choices=("reuse", "rebuild"), default="reuse",
                   help="build grad KL once per meta-step (reuse, default) or once per product (rebuild, as metagrad)")
    args = p.parse_args(argv)

    torch.set_num_interop_threads(1)
    torch.set_num_threads(max(1, args.torch_threads))
    if args.check:
        ok = run_check(args.check)
        print("check: nav2d agrees with metagrad" if ok else "check: FAILED", flush=True)
        return 0 if ok else 1
    if args.workload is None or args.algo is None or args.steps is None:
        p.error("--workload, --algo and --steps are required (or --check)")
    if args.steps != 1:
        p.error("--steps: nav2d has one inner step here (the brief's configuration)")
    if args.iters < 1 or args.warmup < 0:
        p.error("--iters must be >= 1, --warmup >= 0")
    r = time_meta_steps(args)
    if args.json:
        print(json.dumps(r), flush=True)
    else:
        print(f"nav2d {r['algo']} steps=1 torch_threads={r['torch_threads']} openblas_threads={r['openblas_threads']}: "
              f"{r['its_per_s']:.3g} it/s (median {r['median_s']:.4g} s over {r['timed_iters']}), "
              f"peak RSS {r['peak_rss_mb']:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
