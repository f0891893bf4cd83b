#!/usr/bin/python3
"""PyTorch reference of bench_meta's clinc150 workload (issue 17, item 6): text MAML.

    torch_ref_text.py --data DIR --check
    torch_ref_text.py --data DIR --algo maml|fomaml --steps K [--torch-threads T]
                      [--warmup W] [--iters N] [--max-seconds S] [--json] [--profile]

DIR is written by `bench_meta --workload clinc150 ... --export DIR` (bench/text_workload.h,
Note [Feeding PyTorch the same ids]): the initial parameters, the pre-sampled batches of
padded token matrices and labels, and metagrad's float64 loss and meta-gradient of batch 0.
No text is tokenized here: both sides read the same int64 ids.

The model is written here, not taken from metagrad: an embedding bag (the mean of the
embeddings of a text's ids that are not the pad 0: token ids and hashed character n-gram
ids in one table of V rows), Linear(64, 128), ReLU, Linear(128, 5); cross-entropy. The bag
is a gather of the non-pad ids (flattened, as torch.nn.EmbeddingBag takes them with
offsets) and an index_add per text, divided by the text's id count; those ops have
double backward, which torch.nn.functional.embedding_bag does not offer. The flat ids are
built once per task before timing, as a data loader would give them.

--check: MAML (second order) and first-order MAML on batch 0 in float64 from the same θ;
the mean query loss and every meta-gradient tensor must match metagrad's within a relative
1e-9 (of the tensor's largest entry). Exit status 1 when they do not.

Timing (float32): one meta-iteration = the meta-gradient over a batch (a Python loop over
its 8 tasks, torch.autograd.grad with create_graph for second order) and an Adam step
(β = 1e-3), cycling through the exported batches; the median over the timed ones, and the
peak RSS. The output line is bench_meta's (--json: the same JSON keys).
--profile prints the top 5 functions of a cProfile of the timed iterations (tottime) on stderr.
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def load_export(folder):
    with open(os.path.join(folder, "index.json")) as f:
        index = json.load(f)
    dtypes = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64}
    tensors = {}
    for e in index["tensors"]:
        with open(os.path.join(folder, e["file"]), "rb") as f:
            raw = bytearray(f.read())
        t = torch.frombuffer(raw, dtype=dtypes[e["dtype"]]) if raw else torch.empty(0, dtype=dtypes[e["dtype"]])
        tensors[e["name"]] = t.reshape(e["shape"])
    return index, tensors


class BagIds:
    """A padded id matrix [n, L] as flat non-pad ids, their row numbers and each row's count."""

    def __init__(self, ids):
        mask = ids != 0
        self.n = ids.shape[0]
        self.flat = ids[mask]
        self.rows = torch.arange(self.n).unsqueeze(1).expand_as(ids)[mask]
        self.counts = mask.sum(1, keepdim=True)


def forward(theta, bag):
    table, w1, b1, w2, b2 = theta
    summed = torch.zeros(bag.n, table.shape[1], dtype=table.dtype).index_add(0, bag.rows, table[bag.flat])
    mean = summed / bag.counts.to(table.dtype)
    return F.linear(F.relu(F.linear(mean, w1, b1)), w2, b2)


def task_meta_loss(theta, task, inner_lr, steps, first_order, net=forward):
    """The query loss after `steps` SGD steps on the support set (θ'ᵢ = θ − α∇L_support);
    `net(θ, bag)` gives the logits (torch_train_text.py passes the bag-counts network)."""
    sx, sy, qx, qy = task
    fast = list(theta)
    for _ in range(steps):
        loss = F.cross_entropy(net(fast, sx), sy)
        grads = torch.autograd.grad(loss, fast, create_graph=not first_order)
        fast = [p - inner_lr * g for p, g in zip(fast, grads)]
    return F.cross_entropy(net(fast, qx), qy)


def meta_gradient(theta, batch, inner_lr, steps, first_order, net=forward):
    """(mean query loss, its gradient with respect to θ) over the batch's tasks."""
    loss = sum(task_meta_loss(theta, t, inner_lr, steps, first_order, net) for t in batch) / len(batch)
    return loss.item(), torch.autograd.grad(loss, theta)


def batches_of(index, tensors):
    out = []
    for b in range(index["batches"]):
        tasks = []
        for t in range(index["meta_batch"]):
            p = f"b{b}_t{t}_"
            tasks.append((BagIds(tensors[p + "support_x"]), tensors[p + "support_y"],
                          BagIds(tensors[p + "query_x"]), tensors[p + "query_y"]))
        out.append(tasks)
    return out


def theta_of(index, tensors, dtype):
    return [tensors[f"theta{j}"].to(dtype).clone().requires_grad_() for j in range(index["num_params"])]


def run_check(index, tensors, tol=1e-9):
    """Both algorithms in float64 on batch 0 against metagrad's; True when they agree."""
    theta = theta_of(index, tensors, torch.float64)
    batch = batches_of(index, tensors)[0]
    ok = True
    for algo in ("maml", "fomaml"):
        loss, grads = meta_gradient(theta, batch, index["inner_lr"], index["steps"], algo == "fomaml")
        ref_loss = index["losses"][algo]
        loss_err = abs(loss - ref_loss) / abs(ref_loss)
        worst = 0.0
        for j, g in enumerate(grads):
            ref = tensors[f"{algo}_grad{j}"]
            scale = ref.abs().max().item()
            worst = max(worst, (g - ref).abs().max().item() / scale if scale > 0 else (g - ref).abs().max().item())
        good = loss_err <= tol and worst <= tol
        ok = ok and good
        print(f"check {algo} steps={index['steps']}: loss torch {loss:.12f} metagrad {ref_loss:.12f} "
              f"(rel. diff {loss_err:.1e}); meta-gradient: largest diff / largest entry, worst tensor {worst:.1e} "
              f"over {len(grads)} tensors: {'ok' if good else 'MISMATCH'}")
    return ok


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_meta_steps(args, index, tensors):
    theta = theta_of(index, tensors, torch.float32)
    batches = batches_of(index, tensors)
    opt = torch.optim.Adam(theta, lr=1e-3)
    first_order = args.algo == "fomaml"

    def step(it):
        _, grads = meta_gradient(theta, batches[it % len(batches)], index["inner_lr"], args.steps, first_order)
        for p, g in zip(theta, grads):
            p.grad = g
        opt.step()

    for it in range(args.warmup):
        step(it)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    seconds = []
    for it in range(args.warmup, args.warmup + args.iters):
        start = time.perf_counter()
        step(it)
        seconds.append(time.perf_counter() - start)
        if args.max_seconds and sum(seconds) >= args.max_seconds:
            break
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(5)
    return statistics.median(seconds), len(seconds)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the folder written by bench_meta --export")
    p.add_argument("--check", action="store_true", help="compare loss and meta-gradient with metagrad's (float64)")
    p.add_argument("--algo", choices=("maml", "fomaml"))
    p.add_argument("--steps", type=int, help="inner steps (>= 1)")
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (intra-op)")
    p.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    p.add_argument("--iters", type=int, default=20, help="timed iterations")
    p.add_argument("--max-seconds", type=float, default=0.0, help="stop timing after this many seconds (0: never)")
    p.add_argument("--json", action="store_true", help="one line of JSON")
    p.add_argument("--profile", action="store_true", help="cProfile top 5 of the timed iterations on stderr")
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    torch.set_num_interop_threads(1)
    index, tensors = load_export(args.data)
    if args.check:
        return 0 if run_check(index, tensors) else 1
    if args.algo is None or args.steps is None or args.steps < 1:
        p.error("--algo and --steps (>= 1) are required (or --check)")
    median, n = time_meta_steps(args, index, tensors)
    record = {"workload": "clinc150", "algo": args.algo, "steps": args.steps, "threads": args.torch_threads,
              "its_per_s": 1.0 / median, "median_s": median, "timed_iters": n, "peak_rss_mb": peak_rss_mb(),
              "gflops": None}
    if args.json:
        print(json.dumps(record))
    else:
        print(f"clinc150 {args.algo} steps={args.steps} torch_threads={args.torch_threads}: {1.0 / median:.3g} it/s "
              f"(median {median * 1e3:.3f} ms over {n}), peak RSS {record['peak_rss_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
