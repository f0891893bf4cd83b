#!/usr/bin/env python3
"""The README's per-algorithm Omniglot table (issue 16) from the runs of bench/omniglot_hours.sh.

    python3 bench/omniglot_table.py OUT [--svg docs/omniglot_algorithms.svg]

Reads OUT/ROW/results.txt for every row that omniglot_hours.sh lists (its names and
iteration budgets are the one source: this script asks it with --list), prints the
Markdown table (rows not run yet say so) and, with --svg, draws the finished rows'
accuracy after their last test step with its 95% interval, beside the papers' figures.
Standard library only.
"""
import argparse
import html
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Row name -> (what the row is, its short name, ways, the paper's figure for that many ways in %, or None).
ROWS = {
    "maml": ("MAML (second order, 1 inner step)", "MAML", 5, ("MAML", 98.7)),
    "fomaml": ("first-order MAML", "FOMAML", 5, ("MAML, first order", 98.3)),
    "anil": ("ANIL (inner loop on the head)", "ANIL", 5, None),
    "metasgd": ("Meta-SGD (learned α per weight)", "Meta-SGD", 5, ("Meta-SGD", 99.53)),
    "maml++": ("MAML++ (5 steps, MSL, BNWB, LSLR, DA, cosine β)", "MAML++", 5, ("MAML++", 99.47)),
    "protonet": ("Prototypical Networks", "ProtoNets", 5, ("ProtoNets", 98.8)),
    "reptile": ("Reptile (1-shot tests, 10 training shots)", "Reptile", 5, ("Reptile, transductive", 97.68)),
    "pretrain": ("pretrained classifier, new head per task", "pretrained", 5, None),
    "maml-20way": ("MAML (5 steps, meta-batch 16, α 0.1)", "MAML", 20, ("MAML", 95.8)),
    "protonet-20way": ("Prototypical Networks", "ProtoNets", 20, ("ProtoNets", 96.0)),
}

LINE = re.compile(r"accuracy after\s+(\d+) steps:\s+([0-9.]+) ± ([0-9.]+)")


def listed_rows():
    """(name, iterations) of omniglot_hours.sh --list, in its order."""
    out = subprocess.run(["bash", os.path.join(HERE, "omniglot_hours.sh"), "--list"], check=True,
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        name, iterations = line.split()[:2]
        if name not in ROWS:
            sys.exit(f"omniglot_table.py: omniglot_hours.sh lists a row this script does not describe: {name}")
        rows.append((name, int(iterations)))
    return rows


def read_results(path):
    """{steps: (mean %, ci %)} from a results.txt; ValueError when it has no accuracy line."""
    with open(path, encoding="utf-8") as f:
        found = {int(m.group(1)): (100 * float(m.group(2)), 100 * float(m.group(3)))
                 for m in map(LINE.search, f) if m}
    if not found:
        raise ValueError(f"{path}: no 'accuracy after K steps: M ± C' line")
    return found


def cell(result):
    return f"{result[0]:.1f} ± {result[1]:.1f}%"


def table(rows, results):
    lines = ["| algorithm | ways | meta-iterations (an hour) | 0 steps | 1 step | last step | paper |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, iterations in rows:
        what, _, ways, paper = ROWS[name]
        paper_cell = f"{paper[1]}% ({paper[0]})" if paper else ""
        r = results.get(name)
        if r is None:
            lines.append(f"| {what} | {ways} | {iterations:,} | not run yet | | | {paper_cell} |")
            continue
        last = max(r)
        first = cell(r[0]) if 0 in r else ""
        one = cell(r[1]) if 1 in r and last != 1 else ""
        lines.append(f"| {what} | {ways} | {iterations:,} | {first} | {one} | **{cell(r[last])}** after {last} "
                     f"step{'s' if last != 1 else ''} | {paper_cell} |")
    return "\n".join(lines)


def svg(rows, results):
    """A horizontal bar per finished row: accuracy after its last step, its 95% interval, the paper's tick."""
    done = [(name, results[name]) for name, _ in rows if name in results]
    lo, hi = 80.0, 100.0
    left, width, bar, gap, top = 130, 520, 18, 10, 40
    height = top + len(done) * (bar + gap) + 50
    x = lambda v: left + (min(max(v, lo), hi) - lo) / (hi - lo) * width  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14">Omniglot 1-shot, official split, an hour on 2 cores: '
           f'accuracy on 600 test tasks (95% CI)</text>']
    for t in range(int(lo), int(hi) + 1, 5):
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 5}" x2="{x(t):.1f}" y2="{height - 40}" stroke="#ddd"/>')
        out.append(f'<text x="{x(t):.1f}" y="{height - 25}" text-anchor="middle">{t}%</text>')
    for i, (name, r) in enumerate(done):
        _, short, ways, paper = ROWS[name]
        y = top + i * (bar + gap)
        mean, ci = r[max(r)]
        out.append(f'<text x="{left - 8}" y="{y + bar - 5}" text-anchor="end">'
                   f'{html.escape(short)}, {ways}-way</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{x(mean) - left:.1f}" height="{bar}" fill="#4a7ab5"/>')
        out.append(f'<line x1="{x(mean - ci):.1f}" y1="{y + bar / 2}" x2="{x(mean + ci):.1f}" y2="{y + bar / 2}" '
                   f'stroke="black" stroke-width="2"/>')
        # The figure inside the bar's end, in white (right of the interval there is no room near 100%).
        out.append(f'<text x="{x(mean - ci) - 4:.1f}" y="{y + bar - 5}" fill="white" font-size="11" '
                   f'text-anchor="end">{mean:.1f}</text>')
        if paper:
            out.append(f'<line x1="{x(paper[1]):.1f}" y1="{y - 2}" x2="{x(paper[1]):.1f}" y2="{y + bar + 2}" '
                       f'stroke="#c0392b" stroke-width="3"><title>{html.escape(paper[0])} paper: '
                       f'{paper[1]}%</title></line>')
    out.append(f'<line x1="{left}" y1="{height - 12}" x2="{left + 14}" y2="{height - 12}" stroke="#c0392b" '
               f'stroke-width="3"/><text x="{left + 20}" y="{height - 8}">the paper (its own budget and split)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the OUT folder of bench/omniglot_hours.sh")
    ap.add_argument("--svg", help="also draw the finished rows into this SVG file")
    args = ap.parse_args()
    if not os.path.isdir(args.out):
        sys.exit(f"omniglot_table.py: {args.out}: no such folder")
    rows = listed_rows()
    results = {}
    for name, _ in rows:
        path = os.path.join(args.out, name, "results.txt")
        if os.path.exists(path):
            try:
                results[name] = read_results(path)
            except ValueError as e:
                sys.exit(f"omniglot_table.py: {e}")
    print(table(rows, results))
    if args.svg:
        if not results:
            sys.exit("omniglot_table.py: no finished row to draw")
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svg(rows, results))


if __name__ == "__main__":
    main()
