#!/usr/bin/python3
"""Side-by-side benchmark of metagrad and PyTorch on the MAML workloads (issues 6, 14).

    /usr/bin/python3 bench/side_by_side.py [--quick]
        [--workloads sinusoid,omniglot,omniglot_strided,miniimagenet,nav2d]
        [--algos maml,fomaml,reptile] [--steps 1,5] [--threads 1,2]
        [--metagrad build/bench/bench_meta] [--libtorch build/bench/torch_ref_cpp]
        [--fma-peak build/bench/fma_peak] [--json bench/side_by_side.json]

First runs `torch_ref.py --check` on the selected workloads (the loop and
vectorised PyTorch forms must agree in float64; the run stops with status 1 if
they do not). Then, for every
selected row (workload x algorithm x inner steps x threads), it times

  * metagrad:   build/bench/bench_meta ... --threads T --json
  * torch loop: bench/torch_ref.py --form loop, one Python loop over the tasks
  * torch vec:  bench/torch_ref.py --form vec, the tasks vectorised
  * libtorch:   build/bench/torch_ref_cpp ... --threads T --json, the loop form
                in C++ (built when Meson finds libtorch-dev; else the column says n/a)

each in its own subprocess, alternating between the implementations in every
round (sinusoid: metagrad before every torch thread configuration; the conv
nets, where one run takes minutes: metagrad once, then the torch
configurations), so that a burst of load from other processes hits all of them
alike. Each number is the best over its runs (load only ever slows a run down).
The conv nets get one warm-up and one timed meta-iteration per run. "ratio vs
best torch" is metagrad's it/s over the fastest of torch loop, torch vec and
libtorch, and the torch RSS is that fastest run's.

Throughput: every row also gives the FLOPs of one meta-iteration counted
analytically from the network's conv / linear layers (meta_iteration_flops
states the rule), the GFLOP/s that metagrad and the fastest torch achieve with
it (FLOPs x it/s), and those as a percentage of the machine's fp32 FMA peak for
the row's thread count, measured at the start of the same run by
build/bench/fma_peak (widest vector ISA, thread CPU time; "n/a" without it).

Threads: metagrad runs its T worker threads over the tasks (BLAS on 1 thread).
PyTorch has two thread pools that matter here: its own intra-op pool
(torch.set_num_threads) and OpenBLAS's, which is fixed when the library loads
and so is set through OPENBLAS_NUM_THREADS in the subprocess's environment.
For T threads the torch columns report the fastest of (torch T, OpenBLAS 1),
(torch 1, OpenBLAS T) and (torch T, OpenBLAS T); for T = 1 just (1, 1). The
inter-op pool is set to 1 thread.

nav2d (issue 18, meta-RL on 2-D navigation; only when named in --workloads): the
rows are maml and fomaml with 1 inner step (other algorithms and step counts are
left out with a note). Its check is of another kind: bench_meta --nav-fixture
writes metagrad's float64 samples and results of a small meta-step, and
bench/torch_nav_ref.py --check recomputes them from the same actions and
parameters (stop with status 1 if they disagree). The torch column is
torch_nav_ref.py (tasks x trajectories vectorised, reported as "torch vec"; no
loop or libtorch form), one warm-up and one timed meta-iteration per run, metagrad
once per round. Its GFLOP/iter is "—": the FLOP rule below counts conv / linear
layers of supervised tasks, not a TRPO step whose trajectories end at different times.

Prints the machine (lscpu: model, cores, the avx512f / avx2 / fma flags, load)
and the FMA peak, one progress line per measurement on stderr, then a Markdown
table, and writes the same rows as a JSON list (default bench/side_by_side.json).
Exit status: 0 when every measurement ran, 1 when the check failed or a
measurement failed, 2 for bad arguments or a missing PyTorch / metagrad binary.
Uses only the Python standard library; PyTorch is needed by the subprocesses
(/usr/bin/python3 with Debian's python3-torch).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WORKLOADS = ("sinusoid", "omniglot", "omniglot_strided", "miniimagenet", "nav2d")
DEFAULT_WORKLOADS = WORKLOADS[:4]  # nav2d runs only when named: a meta-iteration takes many seconds
ALGOS = ("maml", "fomaml", "reptile")
NAV_ALGOS = ("maml", "fomaml")  # nav2d's rows: these with 1 inner step

# Iteration budgets per workload: warm-up iterations, timed iterations, the most
# seconds of timed iterations (at least one is timed), rounds, and whether metagrad
# runs before every torch thread configuration (True) or once per round (False).
# An Omniglot meta-step takes seconds (1 inner step) to about a minute (5 inner
# steps, second order) on 2 cores, so Omniglot gets one timed iteration after one
# warm-up, in one round.
CONV_BUDGET = (1, 1, 1.0, 1, False)
BUDGET = {
    "full": {"sinusoid": (5, 200, 3.0, 2, True), "omniglot": CONV_BUDGET, "omniglot_strided": CONV_BUDGET,
             "miniimagenet": CONV_BUDGET, "nav2d": CONV_BUDGET},
    "quick": {"sinusoid": (2, 50, 0.5, 1, True), "omniglot": CONV_BUDGET, "omniglot_strided": CONV_BUDGET,
              "miniimagenet": CONV_BUDGET, "nav2d": CONV_BUDGET},
}
# --quick leaves out these rows unless --steps is given: the conv nets with 5 inner
# steps take minutes per run.
QUICK_SKIPS_STEPS = {"omniglot": 5, "omniglot_strided": 5, "miniimagenet": 5}

# ---------------------------------------------------------------------------
# FLOPs of one meta-iteration, counted analytically.
# ---------------------------------------------------------------------------

# The networks and task shapes of bench_meta.cpp / torch_ref.py / torch_ref_cpp.cpp:
# the MLP's layer widths, or the conv4's (input channels, image side, filters,
# strided); the support and query examples per task and the meta-batch.
MLP_WIDTHS = {"sinusoid": (1, 40, 40, 1)}
CONV4 = {"omniglot": (1, 28, 64, False), "omniglot_strided": (1, 28, 64, True), "miniimagenet": (3, 84, 32, False)}
TASK_SHAPE = {  # support examples, query examples, tasks per meta-batch
    "sinusoid": (10, 10, 25), "omniglot": (5, 75, 32), "omniglot_strided": (5, 75, 32), "miniimagenet": (5, 75, 4)}
WAYS = 5


def layer_macs(workload):
    """Multiply-adds of each conv / linear layer for one example's forward pass, in order.

    A conv 3x3 layer with C_in inputs, C_out filters and an H x W output does
    H * W * C_out * C_in * 9; a linear layer in -> out does in * out. Bias adds,
    batch-norm, ReLU, pooling and the loss are not counted (they are O(activations),
    not O(activations x fan-in)). The conv4 blocks: conv 3x3 pad 1 (stride 2 when
    strided: output side ceil(side / 2)), then max-pool 2 (side // 2) when not strided."""
    if workload in MLP_WIDTHS:
        w = MLP_WIDTHS[workload]
        return [a * b for a, b in zip(w, w[1:])]
    in_ch, side, ch, strided = CONV4[workload]
    macs = []
    for _ in range(4):
        out = (side - 1) // 2 + 1 if strided else side
        macs.append(out * out * ch * in_ch * 9)
        side = out if strided else out // 2
        in_ch = ch
    macs.append(ch * side * side * WAYS)
    return macs


def meta_iteration_flops(workload, algo, steps):
    """FLOPs of one meta-iteration (one meta-batch) of algo with `steps` inner steps.

    Counting rule (1 multiply-add = 2 FLOPs; only the conv / linear layers, see layer_macs):
      F(n)  forward over n examples          = 2 * n * sum(layer MACs)
      B(n)  its backward (first order)       = 2 F(n) - F1(n): the weight gradients (F) and
            the input gradients (F), less the first layer's input gradient (F1, that
            layer's share of F): the data needs no gradient.
      one inner SGD step on the support set  = F(s) + B(s)
      second-order MAML: the outer backward sweep also runs back through every inner
            step's forward and backward; reverse mode costs about twice the work it
            differentiates, so each inner step adds 2 (F(s) + B(s)).
    Per task, with k inner steps, s support and q query examples:
      maml    = 3 k (F(s) + B(s)) + F(q) + B(q)
      fomaml  =   k (F(s) + B(s)) + F(q) + B(q)
      reptile =   k (F(s) + B(s)) + F(q)          (the query set is only evaluated)
    times the tasks of a meta-batch. The outer update (Adam, Reptile's interpolation)
    is O(parameters) and not counted. A lower bound on the GEMM work of a real
    implementation rather than an exact count of any one: it is what % of peak is
    measured against."""
    if workload not in TASK_SHAPE:
        return None  # nav2d: see the module's docstring
    macs = layer_macs(workload)
    support, query, meta_batch = TASK_SHAPE[workload]

    def fwd(n):
        return 2.0 * n * sum(macs)

    def bwd(n):
        return 2.0 * fwd(n) - 2.0 * n * macs[0]

    step = fwd(support) + bwd(support)
    per_task = {
        "maml": 3 * steps * step + fwd(query) + bwd(query),
        "fomaml": steps * step + fwd(query) + bwd(query),
        "reptile": steps * step + fwd(query),
    }[algo]
    return meta_batch * per_task

JSON_KEYS = ("workload", "algo", "steps", "threads", "metagrad_its", "torch_loop_its", "torch_vec_its",
             "metagrad_rss_mb", "torch_rss_mb")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def csv_list(allowed, cast=str):
    def parse(text):
        items = [cast(x) for x in text.split(",") if x.strip()]
        for x in items:
            if allowed is not None and x not in allowed:
                raise argparse.ArgumentTypeError(f"{x!r} is not one of {', '.join(map(str, allowed))}")
            if cast is int and x < 1:
                raise argparse.ArgumentTypeError(f"{x} must be >= 1")
        if not items:
            raise argparse.ArgumentTypeError("empty list")
        return items
    return parse


def cpu_info():
    """(model name, a description of the cores, the vector ISA flags among avx512f / avx2 / fma)
    from `lscpu`, or from /proc/cpuinfo when lscpu is missing."""
    fields = {}
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=dict(os.environ, LC_ALL="C"), timeout=10).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if "Model name" not in fields:
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key.strip() == "model name":
                        fields.setdefault("Model name", value.strip())
                    elif key.strip() == "flags":
                        fields.setdefault("Flags", value.strip())
        except OSError:
            pass
    model = fields.get("Model name", "unknown CPU")
    cores = f"{os.cpu_count()} logical CPUs"
    if "Core(s) per socket" in fields and "Socket(s)" in fields:
        cores += (f" ({fields['Socket(s)']} socket(s) x {fields['Core(s) per socket']} cores x "
                  f"{fields.get('Thread(s) per core', '?')} threads/core)")
    flags = set(fields.get("Flags", "").split())
    isa = " ".join(f for f in ("avx512f", "avx2", "fma") if f in flags) or "none of avx512f/avx2/fma"
    return model, cores, isa


def machine_line():
    """'machine: CPU model, N logical CPUs (cores), ISA ..., load average a b c'."""
    model, cores, isa = cpu_info()
    return f"machine: {model}, {cores}, ISA {isa}, load average {load_average()}"


def fma_peak(path, threads, timeout=120):
    """Runs bench/fma_peak for the thread counts; returns ({threads: GFLOP/s}, isa) or ({}, why not)."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return {}, f"no fma_peak at {path}"
    counts = sorted(set(threads))
    r, err = run_json([path, "--json", "--threads", ",".join(map(str, counts))], dict(os.environ), timeout,
                      keys=("threads", "gflops"))
    if err:
        return {}, f"fma_peak failed ({err})"
    return dict(zip(r["threads"], r["gflops"])), r["isa"]


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def thread_configs(threads):
    """(torch intra-op threads, OpenBLAS threads) combinations tried for T threads."""
    if threads == 1:
        return [(1, 1)]
    return [(threads, 1), (1, threads), (threads, threads)]


def run_json(cmd, env, timeout, keys=("its_per_s", "peak_rss_mb")):
    """Runs cmd, returns (its last stdout line parsed as JSON or None, an error message or None).
    The record must hold `keys`."""
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    except OSError as e:
        return None, str(e)
    lines = [x for x in p.stdout.splitlines() if x.strip()]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit status {p.returncode}: {tail}"
    try:
        record = json.loads(lines[-1])
        for k in keys:  # numbers, or lists of numbers
            for x in record[k] if isinstance(record[k], list) else [record[k]]:
                float(x)
        return record, None
    except (ValueError, KeyError, TypeError) as e:
        return None, f"unreadable output {lines[-1]!r} ({e})"


def best(records):
    """The record with the highest its_per_s, or None."""
    records = [r for r in records if r is not None and r.get("its_per_s") is not None]
    return max(records, key=lambda r: r["its_per_s"]) if records else None


def fmt_num(x, digits=3):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    p.add_argument("--workloads", type=csv_list(WORKLOADS), default=list(DEFAULT_WORKLOADS),
                   help="comma-separated subset of " + ",".join(WORKLOADS) + " (default: all but nav2d)")
    p.add_argument("--algos", type=csv_list(ALGOS), default=list(ALGOS),
                   help="comma-separated subset of maml,fomaml,reptile")
    p.add_argument("--steps", type=csv_list(None, int), default=[1, 5], help="inner steps, e.g. 1,5")
    p.add_argument("--threads", type=csv_list(None, int), default=[1, 2], help="threads, e.g. 1,2")
    p.add_argument("--metagrad", default=os.path.join(REPO, "build", "bench", "bench_meta"),
                   help="the bench_meta program (default: build/bench/bench_meta in the repository)")
    p.add_argument("--libtorch", default=os.path.join(REPO, "build", "bench", "torch_ref_cpp"),
                   help="the libtorch reference torch_ref_cpp (default: build/bench/torch_ref_cpp; built when "
                   "Meson finds libtorch-dev); the libtorch column says n/a without it")
    p.add_argument("--fma-peak", default=os.path.join(REPO, "build", "bench", "fma_peak"),
                   help="the FMA peak probe (default: build/bench/fma_peak); %% of peak says n/a without it")
    p.add_argument("--json", default=os.path.join(HERE, "side_by_side.json"), metavar="PATH",
                   help="where to write the rows as JSON (default: bench/side_by_side.json)")
    p.add_argument("--quick", action="store_true",
                   help="fewer sinusoid iterations, one round, and no omniglot steps=5 rows unless --steps is given")
    p.add_argument("--rounds", type=int, help="rounds of alternating runs per row (default: sinusoid 2, "
                   "omniglot 1; --quick 1)")
    p.add_argument("--skip-check", action="store_true", help="do not run torch_ref.py --check first")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds before one measurement is abandoned")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="the Python with PyTorch that runs torch_ref.py (default /usr/bin/python3)")
    # For tests: commands standing in for `python torch_ref.py` and `python torch_nav_ref.py`.
    p.add_argument("--torch-cmd", help=argparse.SUPPRESS)
    p.add_argument("--torch-nav-cmd", help=argparse.SUPPRESS)
    steps_given = any(a == "--steps" or a.startswith("--steps=") for a in (sys.argv[1:] if argv is None else argv))
    args = p.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be >= 1")

    print(machine_line(), flush=True)
    peak, peak_isa = fma_peak(args.fma_peak, args.threads)
    if peak:
        print(f"peak: fma_peak {peak_isa} fp32: " + ", ".join(
            f"{t} thread{'' if t == 1 else 's'} {g:.1f} GFLOP/s" for t, g in sorted(peak.items())), flush=True)
    else:
        print(f"peak: n/a ({peak_isa})", flush=True)
    have_libtorch = os.path.isfile(args.libtorch) and os.access(args.libtorch, os.X_OK)
    if not have_libtorch:
        log(f"side_by_side: no libtorch reference at {args.libtorch} (meson builds it when it finds libtorch-dev); "
            "the libtorch column says n/a")

    torch_nav_cmd = (shlex.split(args.torch_nav_cmd) if args.torch_nav_cmd
                     else [args.python, os.path.join(HERE, "torch_nav_ref.py")])
    if args.torch_cmd:
        torch_cmd = shlex.split(args.torch_cmd)
    else:
        torch_cmd = [args.python, os.path.join(HERE, "torch_ref.py")]
        probe = subprocess.run([args.python, "-c", "import torch"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            log(f"side_by_side: PyTorch is not importable by {args.python}; install it with "
                "`apt-get install python3-torch` (Debian's PyTorch, for /usr/bin/python3)")
            return 2
    if not (os.path.isfile(args.metagrad) and os.access(args.metagrad, os.X_OK)):
        log(f"side_by_side: no metagrad benchmark at {args.metagrad}; build it with "
            "`meson compile -C build bench_meta` or pass --metagrad PATH")
        return 2

    supervised = [w for w in args.workloads if w != "nav2d"]
    if not args.skip_check and supervised:
        log("side_by_side: checking that the loop and vec PyTorch forms agree (float64) ...")
        start = time.time()
        chk = subprocess.run(torch_cmd + ["--check", "--check-workloads", ",".join(supervised)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        for line in chk.stdout.splitlines():
            log("  " + line)
        if chk.returncode != 0:
            log("side_by_side: CHECK FAILED: the loop and vectorised PyTorch references disagree; "
                "no timing is meaningful until they agree")
            return 1
        print(f"check: loop and vec PyTorch forms agree ({time.time() - start:.0f} s)", flush=True)
    if not args.skip_check and "nav2d" in args.workloads:
        log("side_by_side: checking that torch_nav_ref.py computes metagrad's nav2d meta-step (float64) ...")
        start = time.time()
        if not nav_check(args.metagrad, torch_nav_cmd):
            log("side_by_side: CHECK FAILED: the PyTorch nav2d reference does not compute what metagrad does; "
                "no timing is meaningful until they agree")
            return 1
        print(f"check: the PyTorch nav2d reference agrees with metagrad ({time.time() - start:.0f} s)", flush=True)

    budget = BUDGET["quick" if args.quick else "full"]
    rows = [(w, a, s, t) for w in args.workloads for a in args.algos for s in args.steps for t in args.threads]
    nav_unsupported = [r for r in rows if r[0] == "nav2d" and (r[1] not in NAV_ALGOS or r[2] != 1)]
    if nav_unsupported:
        rows = [r for r in rows if r not in nav_unsupported]
        log(f"side_by_side: nav2d has rows for maml and fomaml with 1 inner step only; leaving out "
            f"{len(nav_unsupported)} rows")
    if args.quick and not steps_given:
        skipped = [r for r in rows if QUICK_SKIPS_STEPS.get(r[0]) == r[2]]
        rows = [r for r in rows if r not in skipped]
        if skipped:
            names = ",".join(w for w in args.workloads if any(r[0] == w for r in skipped))
            log(f"side_by_side: --quick leaves out {len(skipped)} rows with {names} steps=5 "
                "(pass --steps to keep them)")

    all_forms = ("loop", "vec", "libtorch") if have_libtorch else ("loop", "vec")

    def forms_of(w):
        return ("vec",) if w == "nav2d" else all_forms

    def runs_per_row(w, t):
        n_cfg = len(thread_configs(t))
        return (len(forms_of(w)) * n_cfg + (n_cfg if budget[w][4] else 1)) * (args.rounds or budget[w][3])

    n_runs = sum(runs_per_row(w, t) for w, _, _, t in rows)
    log(f"side_by_side: {len(rows)} rows, {n_runs} measurements")
    done = 0
    failures = 0
    records = []

    for workload, algo, steps, threads in rows:
        warmup, iters, max_s, rounds, mg_every_config = budget[workload]
        rounds = args.rounds or rounds
        timing = ["--warmup", str(warmup), "--iters", str(iters), "--max-seconds", str(max_s), "--json"]
        base = ["--workload", workload, "--algo", algo, "--steps", str(steps)]
        mg_cmd = [args.metagrad] + base + ["--threads", str(threads)] + timing
        forms = forms_of(workload)
        row_torch_cmd = torch_nav_cmd if workload == "nav2d" else torch_cmd
        torch_runs = [(form, tt, bt) for tt, bt in thread_configs(threads) for form in forms]
        results = {"metagrad": [], "loop": [], "vec": [], "libtorch": []}
        row_name = f"{workload} {algo} steps={steps} threads={threads}"

        def measure(label, cmd, env):
            nonlocal done, failures
            done += 1
            r, err = run_json(cmd, env, args.timeout)
            if err:
                failures += 1
                log(f"[{done}/{n_runs}] {row_name} {label}: FAILED ({err})")
            else:
                log(f"[{done}/{n_runs}] {row_name} {label}: {r['its_per_s']:.4g} it/s, "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB (load {load_average().split()[0]})")
            return r

        for _ in range(rounds):
            # Alternate: metagrad before every torch thread configuration (both forms), or once a round.
            for i, (form, tt, bt) in enumerate(torch_runs):
                if i == 0 or (i % len(forms) == 0 and mg_every_config):
                    results["metagrad"].append(measure("metagrad", mg_cmd, dict(os.environ)))
                env = dict(os.environ, OPENBLAS_NUM_THREADS=str(bt))
                if form == "libtorch":
                    cmd = [args.libtorch] + base + ["--threads", str(tt)] + timing
                else:
                    cmd = row_torch_cmd + base + ["--form", form, "--torch-threads", str(tt)] + timing
                r = measure(f"{'libtorch' if form == 'libtorch' else 'torch ' + form} (torch {tt}, OpenBLAS {bt})",
                            cmd, env)
                if r is not None:
                    r = dict(r, form=form, torch_threads=tt, openblas_threads=bt)
                results[form].append(r)

        mg, loop, vec = best(results["metagrad"]), best(results["loop"]), best(results["vec"])
        libt = best(results["libtorch"])
        fastest = best([loop, vec, libt])
        flops = meta_iteration_flops(workload, algo, steps)
        row_peak = peak.get(threads)

        def achieved(r):
            return flops * r["its_per_s"] * 1e-9 if r and flops is not None else None

        def pct(gflops):
            return 100.0 * gflops / row_peak if gflops is not None and row_peak else None
        rec = {
            "workload": workload, "algo": algo, "steps": steps, "threads": threads,
            "metagrad_its": mg["its_per_s"] if mg else None,
            "torch_loop_its": loop["its_per_s"] if loop else None,
            "torch_vec_its": vec["its_per_s"] if vec else None,
            "libtorch_its": libt["its_per_s"] if libt else None,
            "libtorch_built": have_libtorch,
            "metagrad_rss_mb": mg["peak_rss_mb"] if mg else None,
            "torch_rss_mb": fastest["peak_rss_mb"] if fastest else None,
            "metagrad_gflops": mg.get("gflops") if mg else None,
            "torch_best_config": (f"{fastest['form']} torch={fastest['torch_threads']} "
                                  f"openblas={fastest['openblas_threads']}") if fastest else None,
            "torch_loop_config": f"torch={loop['torch_threads']} openblas={loop['openblas_threads']}" if loop else None,
            "torch_vec_config": f"torch={vec['torch_threads']} openblas={vec['openblas_threads']}" if vec else None,
            "libtorch_config": f"torch={libt['torch_threads']} openblas={libt['openblas_threads']}" if libt else None,
            "flops_per_iter": flops,
            "metagrad_achieved_gflops": achieved(mg),
            "best_torch_achieved_gflops": achieved(fastest),
            "peak_gflops": row_peak,
            "peak_isa": peak_isa if peak else None,
            "metagrad_pct_peak": pct(achieved(mg)),
            "best_torch_pct_peak": pct(achieved(fastest)),
            "ratio_vs_best_torch": (mg["its_per_s"] / fastest["its_per_s"]) if mg and fastest else None,
            "rss_ratio": (mg["peak_rss_mb"] / fastest["peak_rss_mb"]) if mg and fastest else None,
            "timed_iters": {"metagrad": mg["timed_iters"] if mg else None,
                            "torch_best": fastest["timed_iters"] if fastest else None},
            "runs": len(results["metagrad"]) + len(results["loop"]) + len(results["vec"]),
            "loadavg": load_average(),
        }
        records.append(rec)
        # Written after every row, so that an interrupted run keeps what it measured.
        write_json(args.json, records)

    print(machine_line().replace("machine:", "machine at the end:"), flush=True)
    print_table(records)
    print(f"wrote {args.json}", flush=True)
    return 1 if failures else 0


def nav_check(metagrad, torch_nav_cmd, timeout=1800):
    """bench_meta --nav-fixture, then torch_nav_ref.py --check on it; True when they agree."""
    with tempfile.TemporaryDirectory() as d:
        fixture = os.path.join(d, "nav2d_fixture.json")
        steps = [[metagrad, "--workload", "nav2d", "--algo", "maml", "--steps", "1", "--threads", "1",
                  "--nav-fixture", fixture], torch_nav_cmd + ["--check", fixture]]
        for cmd in steps:
            try:
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                                   env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
            except (OSError, subprocess.SubprocessError) as e:
                log(f"  {os.path.basename(cmd[0])}: {e}")
                return False
            for line in p.stdout.splitlines():
                log("  " + line)
            if p.returncode != 0:
                return False
    return True


def write_json(path, records):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(records, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def fmt_pct(record, key):
    """A "% of peak" cell: n/a without a peak for the row's threads, a dash for a failed run."""
    if record["peak_gflops"] is None:
        return "n/a"
    x = record[key]
    return "—" if x is None else f"{x:.1f}%" if x < 10 else f"{x:.0f}%"


def print_table(records):
    head = ["workload", "algo", "steps", "threads", "metagrad it/s", "torch loop it/s", "torch vec it/s",
            "libtorch it/s", "ratio vs best torch", "GFLOP/iter", "metagrad GFLOP/s", "metagrad % of peak",
            "best torch GFLOP/s", "best torch % of peak", "metagrad RSS MB", "torch RSS MB", "RSS ratio"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(" --- " for _ in head) + "|")
    for r in records:
        torch_its = (r["torch_loop_its"], r["torch_vec_its"], r["libtorch_its"])
        fastest = max((x for x in torch_its if x is not None), default=None)
        nav = r["workload"] == "nav2d"  # only the vec form exists for it
        cells = [r["workload"], r["algo"], str(r["steps"]), str(r["threads"]),
                 fmt_num(r["metagrad_its"]), "n/a" if nav else fmt_num(r["torch_loop_its"]),
                 fmt_num(r["torch_vec_its"]),
                 fmt_num(r["libtorch_its"]) if r["libtorch_built"] and not nav else "n/a",
                 fmt_ratio(r["metagrad_its"], fastest),
                 fmt_num(r["flops_per_iter"] * 1e-9 if r["flops_per_iter"] is not None else None),
                 fmt_num(r["metagrad_achieved_gflops"]),
                 fmt_pct(r, "metagrad_pct_peak"),
                 fmt_num(r["best_torch_achieved_gflops"]),
                 fmt_pct(r, "best_torch_pct_peak"),
                 fmt_num(r["metagrad_rss_mb"]), fmt_num(r["torch_rss_mb"]),
                 fmt_ratio(r["metagrad_rss_mb"], r["torch_rss_mb"])]
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
