#!/usr/bin/python3
"""PyTorch reference training of a metalearn CLINC150 run (issue 17): the same model, trained
and scored by PyTorch, must land within the confidence intervals of metagrad's row.

    torch_train_text.py --data DIR [--check-only] [--eval-steps N] [--torch-threads T] [--json PATH]

DIR is written by `build/bench/export_text_run --model bag|bag-counts --algo maml|fomaml
--iterations N --out DIR` (bench/export_text_run.cpp): the run's initial θ, the tasks of every
meta-iteration in metalearn's order, the test tasks `metalearn eval` scores (600 per K by
default, K = 1 and 5), and metagrad's float64 loss and meta-gradient of batch 0.

1. Check: the network below in float64 from the same θ must give metagrad's loss and
   meta-gradient on batch 0 within a relative 1e-9 (exit status 1 otherwise).
2. Train (float32): for every exported meta-iteration, the mean over its tasks of the query
   loss after the run's inner SGD steps (second order for maml: create_graph; first order
   for fomaml), and torch.optim.Adam at the run's meta learning rate, as metalearn does.
3. Score: on each K's test tasks, --eval-steps SGD steps at α on the support set from the
   trained θ, then the query accuracy; mean ± 1.96 · std / sqrt(n) over the tasks, as
   meta/evaluate.cpp's summarize.

The network is written here, not taken from metagrad (nn/text_models.h describes it):
an embedding bag (the mean of the embeddings of a text's non-pad ids), Linear(64, 128),
ReLU, Linear(128, ways); with bag-counts, plus the count path s · Σ_v count_v W[v] / ‖count‖₂
(Note [The count path] in nn/text_layers.h). The bag is bench/torch_ref_text.py's.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The same id handling, θ and MAML loop as the timing reference:
from torch_ref_text import BagIds, load_export, theta_of  # noqa: E402
from torch_ref_text import forward as mlp_forward  # noqa: E402
from torch_ref_text import meta_gradient as ref_meta_gradient  # noqa: E402


class CountIds(BagIds):
    """BagIds and each row's c / ‖count‖₂ (c its non-pad ids, count its multiplicities), as count_norm_scale."""

    def __init__(self, ids):
        super().__init__(ids)
        scale = torch.zeros(self.n, 1, dtype=torch.float64)
        for i in range(self.n):
            row = ids[i][ids[i] != 0]
            if row.numel():
                _, mult = torch.unique(row, return_counts=True)
                mult = mult.to(torch.float64)
                scale[i, 0] = mult.sum() / mult.pow(2).sum().sqrt()
        self.scale = scale


def forward(theta, bag, counts):
    logits = mlp_forward(theta[:5], bag)
    if not counts:
        return logits
    w, s = theta[5], theta[6]
    summed = torch.zeros(bag.n, w.shape[1], dtype=w.dtype).index_add(0, bag.rows, w[bag.flat])
    return logits + summed / bag.counts.to(w.dtype) * bag.scale.to(w.dtype) * s


def meta_gradient(theta, batch, index, counts):
    """(mean query loss, its gradient with respect to θ) over a batch's tasks, as the run trains."""
    return ref_meta_gradient(theta, batch, index["inner_lr"], index["steps"], index["algo"] == "fomaml",
                             lambda th, bag: forward(th, bag, counts))


def tasks_of(tensors, prefix, count):
    out = []
    for t in range(count):
        p = f"{prefix}_t{t}_"
        out.append((CountIds(tensors[p + "support_x"]), tensors[p + "support_y"], CountIds(tensors[p + "query_x"]),
                    tensors[p + "query_y"]))
    return out


def check(index, tensors, counts, batch0, tol=1e-9):
    theta = theta_of(index, tensors, torch.float64)
    loss, grads = meta_gradient(theta, batch0, index, counts)
    loss_err = abs(loss - index["loss"]) / abs(index["loss"])
    worst = 0.0
    for j, g in enumerate(grads):
        ref = tensors[f"grad{j}"]
        scale = ref.abs().max().item()
        diff = (g - ref).abs().max().item()
        worst = max(worst, diff / scale if scale > 0 else diff)
    ok = loss_err <= tol and worst <= tol
    print(f"check {index['algo']} ({index['model']}): loss torch {loss:.12f} metagrad {index['loss']:.12f} "
          f"(rel. diff {loss_err:.1e}); meta-gradient worst tensor {worst:.1e}: {'ok' if ok else 'MISMATCH'}",
          flush=True)
    return ok


def summarize(values):
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, 1.96 * math.sqrt(var) / math.sqrt(n)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the folder written by build/bench/export_text_run")
    p.add_argument("--check-only", action="store_true", help="only the float64 check of batch 0")
    p.add_argument("--eval-steps", type=int, default=10, help="test-time SGD steps (default 10, the README's)")
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    if args.eval_steps < 0:
        p.error("--eval-steps must be >= 0")
    torch.set_num_threads(args.torch_threads)
    index, tensors = load_export(args.data)
    counts = index["model"] == "bag-counts"
    batches = [tasks_of(tensors, f"b{b}", index["meta_batch"]) for b in range(index["iterations"])]
    if not check(index, tensors, counts, batches[0]):
        return 1
    if args.check_only:
        return 0

    start = time.perf_counter()
    theta = theta_of(index, tensors, torch.float32)
    opt = torch.optim.Adam(theta, lr=index["meta_lr"])
    for it, batch in enumerate(batches):
        loss, grads = meta_gradient(theta, batch, index, counts)
        for q, g in zip(theta, grads):
            q.grad = g
        opt.step()
        if (it + 1) % 50 == 0 or it + 1 == len(batches):
            print(f"iteration {it + 1}/{len(batches)}: query loss {loss:.4f}", flush=True)
    train_s = time.perf_counter() - start

    results = {"model": index["model"], "algo": index["algo"], "iterations": index["iterations"],
               "eval_steps": args.eval_steps, "train_seconds": train_s, "accuracy": {}}
    trained = [q.detach() for q in theta]
    for k in index["test_shots"]:
        accuracies = []
        for task in tasks_of(tensors, f"test{k}", index["eval_tasks"]):
            fast = [q.clone().requires_grad_() for q in trained]
            for _ in range(args.eval_steps):
                loss = F.cross_entropy(forward(fast, task[0], counts), task[1])
                grads = torch.autograd.grad(loss, fast)
                fast = [(q - index["inner_lr"] * g).detach().requires_grad_() for q, g in zip(fast, grads)]
            with torch.no_grad():
                predicted = forward(fast, task[2], counts).argmax(1)
            accuracies.append((predicted == task[3]).double().mean().item())
        mean, ci = summarize(accuracies)
        results["accuracy"][str(k)] = {"mean": mean, "ci95": ci, "tasks": len(accuracies)}
        print(f"torch {index['algo']} ({index['model']}), {index['ways']}-way {k}-shot after {args.eval_steps} steps: "
              f"{100 * mean:.1f} ± {100 * ci:.1f} % ({len(accuracies)} tasks)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
