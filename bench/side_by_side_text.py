#!/usr/bin/python3
"""Side by side: a text MAML meta-iteration in metagrad and in PyTorch (issue 17, item 6).

    /usr/bin/python3 bench/side_by_side_text.py [--algos maml,fomaml] [--steps 1] [--threads 1,2]
        [--rounds 2] [--metagrad build/bench/bench_meta] [--export DIR] [--json PATH] [--profile]

The workload is bench_meta's clinc150 (bench/text_workload.h): the default text model on
CLINC150 meta-training episodes, 5-way 1-shot, 15 queries per class, meta-batch 8, α = 0.4,
outer Adam 1e-3. The PyTorch side is bench/torch_ref_text.py, the same model written in
PyTorch.

  1. bench_meta --export DIR writes θ, the pre-sampled batches (int64 token ids and labels)
     and metagrad's float64 loss and meta-gradient of batch 0 (Note [Feeding PyTorch the
     same ids]); torch_ref_text.py --check recomputes them in PyTorch and must agree within
     a relative 1e-9, else the run stops with status 1.
  2. Every row (algorithm x threads) alternates metagrad and each PyTorch thread
     configuration (for T threads: torch T / OpenBLAS 1, torch 1 / OpenBLAS T, torch T /
     OpenBLAS T), `--rounds` times; each number is the best median over its runs. Both
     sides run the same batches in the same order, from the same θ.
  3. --profile: where the time goes at 1 thread, metagrad's per-op table (bench_meta
     --profile) and PyTorch's cProfile top 5.

Prints the machine line (with the load average) at the start and the end and a Markdown
table; writes the rows as JSON (default bench/side_by_side_text.json).
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from side_by_side import best, csv_list, fmt_num, fmt_ratio, load_average, log, machine_line, run_json  # noqa: E402
from side_by_side import thread_configs, write_json  # noqa: E402

REPO = os.path.dirname(HERE)
TIMING = ["--warmup", "2", "--iters", "20", "--max-seconds", "6"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algos", type=csv_list(("maml", "fomaml")), default=["maml", "fomaml"])
    p.add_argument("--steps", type=csv_list(None, int), default=[1])
    p.add_argument("--threads", type=csv_list(None, int), default=[1, 2])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--metagrad", default=os.path.join(REPO, "build", "bench", "bench_meta"))
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--export", help="the folder for bench_meta --export (default: a temporary folder)")
    p.add_argument("--json", default=os.path.join(HERE, "side_by_side_text.json"))
    p.add_argument("--profile", action="store_true", help="also print where each side's time goes (1 thread)")
    p.add_argument("--timeout", type=float, default=900.0)
    args = p.parse_args(argv)
    torch_ref = [args.python, os.path.join(HERE, "torch_ref_text.py")]
    print(machine_line(), flush=True)
    records = []
    failures = 0
    for steps in args.steps:
        folder = args.export or tempfile.mkdtemp(prefix="side_by_side_text_")
        export = subprocess.run([args.metagrad, "--workload", "clinc150", "--algo", "maml", "--steps", str(steps),
                                 "--threads", "1", "--warmup", "2", "--iters", "6", "--export", folder],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if export.returncode != 0:
            log(f"side_by_side_text: bench_meta --export failed: {export.stderr.strip()}")
            return 1
        chk = subprocess.run(torch_ref + ["--data", folder, "--check"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        for line in chk.stdout.splitlines():
            print(line, flush=True)
        if chk.returncode != 0:
            log("side_by_side_text: CHECK FAILED: PyTorch and metagrad disagree; no timing is meaningful")
            return 1
        base = ["--algo", "", "--steps", str(steps)]
        for algo in args.algos:
            base[1] = algo
            for threads in args.threads:
                mg_runs, torch_runs = [], []
                for _ in range(args.rounds):
                    for tt, bt in thread_configs(threads):
                        r, err = run_json([args.metagrad, "--workload", "clinc150", "--threads", str(threads)]
                                          + base + TIMING + ["--json"], dict(os.environ), args.timeout)
                        failures += err is not None
                        mg_runs.append(r)
                        log(f"{algo} steps={steps} threads={threads} metagrad: "
                            f"{err or format(r['its_per_s'], '.4g') + ' it/s'} (load {load_average().split()[0]})")
                        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(bt))
                        r, err = run_json(torch_ref + ["--data", folder, "--torch-threads", str(tt)] + base + TIMING
                                          + ["--json"], env, args.timeout)
                        failures += err is not None
                        if r:
                            r = dict(r, torch_threads=tt, openblas_threads=bt)
                        torch_runs.append(r)
                        log(f"{algo} steps={steps} threads={threads} torch {tt}/OpenBLAS {bt}: "
                            f"{err or format(r['its_per_s'], '.4g') + ' it/s'} (load {load_average().split()[0]})")
                mg, tr = best(mg_runs), best(torch_runs)
                records.append({
                    "workload": "clinc150", "algo": algo, "steps": steps, "threads": threads,
                    "metagrad_its": mg and mg["its_per_s"], "torch_its": tr and tr["its_per_s"],
                    "torch_config": tr and f"torch={tr['torch_threads']} openblas={tr['openblas_threads']}",
                    "ratio": mg["its_per_s"] / tr["its_per_s"] if mg and tr else None,
                    "metagrad_rss_mb": mg and mg["peak_rss_mb"], "torch_rss_mb": tr and tr["peak_rss_mb"],
                    "loadavg": load_average()})
                write_json(args.json, records)
        if args.profile:
            for algo in args.algos:
                prof = subprocess.run([args.metagrad, "--workload", "clinc150", "--algo", algo, "--steps", str(steps),
                                       "--threads", "1", "--profile"] + TIMING, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                print(f"metagrad {algo} steps={steps} profile:\n{prof.stderr}", flush=True)
                prof = subprocess.run(torch_ref + ["--data", folder, "--algo", algo, "--steps", str(steps),
                                                   "--profile"] + TIMING, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
                print(f"torch {algo} steps={steps} cProfile:\n{prof.stderr}", flush=True)
    print(machine_line().replace("machine:", "machine at the end:"), flush=True)
    print("| algo | steps | threads | metagrad it/s | torch it/s (best config) | ratio | metagrad RSS MB | "
          "torch RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in records:
        print(f"| {r['algo']} | {r['steps']} | {r['threads']} | {fmt_num(r['metagrad_its'])} | "
              f"{fmt_num(r['torch_its'])} ({r['torch_config']}) | {fmt_ratio(r['metagrad_its'], r['torch_its'])} | "
              f"{fmt_num(r['metagrad_rss_mb'])} | {fmt_num(r['torch_rss_mb'])} |")
    print(f"wrote {args.json}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
