#!/usr/bin/python3
"""Turns the benchmark CSVs into plots (PNG + SVG) and the Markdown table the README embeds.

    /usr/bin/python3 Scripts/bench/plot.py [--csv Bench/results/matrix.csv] [--outdir Bench/results]

Reads matrix.csv (Scripts/bench/run-matrix.sh), and when present leasequery.csv
(metric,value,unit,table_size,date) and instr-baseline.tsv (Scripts/bench/instr-guard.sh).
Writes mpps-by-size.{png,svg}, mpps-by-flows.{png,svg}, sync-by-table-size.{png,svg} and
README-table.md; with --readme README.md also copies the table between the README's
<!-- bench-table:begin --> and <!-- bench-table:end --> markers. Needs matplotlib (Debian: python3-matplotlib) only for the plots; the table is
written without it.
"""
import argparse
import csv
import os
import sys

SIZE_ORDER = ["64", "128", "256", "550", "1046", "1460", "1500", "imix"]


def read_matrix(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["impl"], r["size"], int(r["bindings"]), int(r["flows"]), r["direction"], r["mode"])
            rows[key] = r  # a later row for the same point wins
    return rows


def fig(rows, key, default=None):
    """Mpps per CPU second of the worker (wall-clock Mpps when the row has none)."""
    r = rows.get(key)
    if not r:
        return default
    v = r.get("mpps_cpu") or r["mpps"]
    return float(v) if v else default


def fmt_count(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000} k"
    return str(n)


def cell(rows, impl, size, b, f, direction, mode):
    r = rows.get((impl, size, b, f, direction, mode))
    if not r:
        return "–"
    if r.get("mpps_cpu"):
        return f"**{float(r['mpps_cpu']):.2f}** ({float(r['mpps']):.2f})"
    return f"{float(r['mpps']):.2f}"


def gbps(rows, size, b, f, direction):
    r = rows.get(("lwaftr", size, b, f, direction, "alone"))
    return f"{float(r['gbps_cpu']):.1f}" if r and r.get("gbps_cpu") else "–"


def table(rows, outdir):
    points = sorted({(k[1], k[2], k[3]) for k in rows if k[0] == "lwaftr"},
                    key=lambda p: ((p[1], p[2]) != (1_000_000, 20_000), p[1], p[2],
                                   SIZE_ORDER.index(p[0]) if p[0] in SIZE_ORDER else 99))
    any_row = next(iter(rows.values()), None)
    has_snabb = any(k[0] == "snabb" for k in rows)
    has_instr = any(k[0] == "lwaftr" and r.get("instr_per_packet") for k, r in rows.items())

    def instr(size, b, f, direction):
        r = rows.get(("lwaftr", size, b, f, direction, "alone"))
        return f"{float(r['instr_per_packet']):.0f}" if r and r.get("instr_per_packet") else "–"

    lines = []
    if any_row:
        lines.append(f"Measured {any_row['date']} at `{any_row['git_rev']}` on {any_row['machine']}. "
                     "One engine on one core; each cell: **Mpps per CPU second of the worker thread** "
                     "(Mpps per wall-clock second). Gbps: input frames as captured, per CPU second.")
        lines.append("")
    head = ["frame size", "bindings", "flows", "v4→v6 alone", "v6→v4 alone",
            "both at once: v4→v6", "v6→v4", "total", "Gbps v4→v6 / v6→v4 alone", "dropped"]
    if has_instr:
        head.insert(-1, "instructions / packet v4→v6 / v6→v4")
    if has_snabb:
        head += ["Snabb v4→v6", "Snabb v6→v4"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for size, b, f in points:
        total = rows.get(("lwaftr", size, b, f, "total", "shared"))
        dropped = total["dropped"] if total else "–"
        cells = [size + (" B" if size != "imix" else ""), fmt_count(b), fmt_count(f),
                 cell(rows, "lwaftr", size, b, f, "v4_to_v6", "alone"),
                 cell(rows, "lwaftr", size, b, f, "v6_to_v4", "alone"),
                 cell(rows, "lwaftr", size, b, f, "v4_to_v6", "shared"),
                 cell(rows, "lwaftr", size, b, f, "v6_to_v4", "shared"),
                 cell(rows, "lwaftr", size, b, f, "total", "shared"),
                 gbps(rows, size, b, f, "v4_to_v6") + " / " + gbps(rows, size, b, f, "v6_to_v4")]
        if has_instr:
            cells.append(instr(size, b, f, "v4_to_v6") + " / " + instr(size, b, f, "v6_to_v4"))
        cells.append(dropped)
        if has_snabb:
            cells += [cell(rows, "snabb", size, b, f, "v4_to_v6", "shared"),
                      cell(rows, "snabb", size, b, f, "v6_to_v4", "shared")]
        lines.append("| " + " | ".join(cells) + " |")
    instr = os.path.join(outdir, "instr-baseline.tsv")
    if os.path.exists(instr):
        lines += ["", "Instructions per packet (callgrind, `LwAFTREngine.process` inclusive, "
                  "`Scripts/bench/instr-guard.sh`):", "", "| run | instructions / packet |", "|---|---|"]
        with open(instr) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, value = line.split("\t")[:2]
                lines.append(f"| {name} | {float(value):.0f} |")
    lq = os.path.join(outdir, "leasequery.csv")
    if os.path.exists(lq):
        # One row per (metric, table size) of the headline metrics: the latest run, and the range
        # over every run recorded (the CSV keeps them all).
        shown = ["bulk_sync", "bulk_server_alone_cpu", "bulk_requestor_alone_cpu", "active_latency_p50",
                 "active_latency_p99", "active_latency_p99.9", "active_latency_max", "active_lost"]
        runs = {}
        with open(lq, newline="") as f:
            for r in csv.DictReader(f):
                if r["metric"] in shown:
                    runs.setdefault((r["metric"], int(float(r["table_size"]))), []).append((r["date"], float(r["value"]), r["unit"]))
        lines += ["", "Leasequery (`cd Bench && swift run -c release LeasequeryBench`, dhcp4o6d and the requestor "
                  "on loopback; active: 10 k updates/s for 10 s, latency from the server's commit to the table):", "",
                  "| metric | table size | latest | range over runs | runs |", "|---|---|---|---|---|"]
        order = {m: i for i, m in enumerate(shown)}
        for (metric, size), vals in sorted(runs.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
            vals.sort()
            unit = vals[-1][2]
            lo, hi = min(v for _, v, _ in vals), max(v for _, v, _ in vals)
            f3 = lambda x: f"{x:.0f}" if x >= 100 else f"{x:.3g}"
            lines.append(f"| {metric} | {fmt_count(size)} | {f3(vals[-1][1])} {unit} | {f3(lo)}–{f3(hi)} {unit} | {len(vals)} |")
    path = os.path.join(outdir, "README-table.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path)
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


def splice(readme, text):
    """Replaces the text between the bench-table markers of the README."""
    with open(readme) as f:
        s = f.read()
    if BEGIN not in s or END not in s:
        print(f"{readme}: no {BEGIN} / {END} markers; not updated", file=sys.stderr)
        return
    head, rest = s.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)
    print("updated", readme)


def plots(rows, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "swift-lwaftr"
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not available: plots skipped (apt install python3-matplotlib)", file=sys.stderr)
        return
    series = [("v4_to_v6", "alone", "v4→v6 (encap) alone"), ("v6_to_v4", "alone", "v6→v4 (decap) alone"),
              ("total", "shared", "both at once, total")]

    def finish(f, ax, name, xlabel, ylabel, title, legend_size=None):
        """Labels, grid and legend of one chart, then writes it as PNG and SVG."""
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=legend_size)
        for ext in ("png", "svg"):
            p = os.path.join(outdir, f"{name}.{ext}")
            # No date, fixed ids: regenerating unchanged data gives unchanged files.
            f.savefig(p, dpi=110, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
            print("wrote", p)
        plt.close(f)

    # Mpps by frame size: the 1 M bindings × 20 k flows row (or the most common point).
    sizes = [s for s in SIZE_ORDER if any(k[0] == "lwaftr" and k[1] == s for k in rows)]
    bf = (1_000_000, 20_000)
    if not any(k[2:4] == bf for k in rows):
        counts = {}
        for k in rows:
            counts[k[2:4]] = counts.get(k[2:4], 0) + 1
        bf = max(counts, key=counts.get) if counts else bf
    if sizes:
        f, ax = plt.subplots(figsize=(7, 4))
        for d, m, label in series:
            ys = [fig(rows, ("lwaftr", s, bf[0], bf[1], d, m)) for s in sizes]
            ax.plot(sizes, ys, marker="o", label=label)
        finish(f, ax, "mpps-by-size", "frame size (bytes, without FCS)", "Mpps per CPU second",
               f"lwaftr bench: Mpps by frame size ({fmt_count(bf[0])} bindings, {fmt_count(bf[1])} flows)")

    # Mpps by active flows at 550 B, one line per table size.
    tables = sorted({k[2] for k in rows if k[0] == "lwaftr" and k[1] == "550"})
    if tables:
        f, ax = plt.subplots(figsize=(7, 4))
        for b in tables:
            flows = sorted({k[3] for k in rows if k[0] == "lwaftr" and k[1] == "550" and k[2] == b})
            if len(flows) < 2 and len(tables) > 1:
                continue
            for d, m, label in series[:2]:
                ax.plot(flows, [fig(rows, ("lwaftr", "550", b, fl, d, m)) for fl in flows], marker="o",
                        label=f"{label}, {fmt_count(b)} bindings")
        ax.set_xscale("log")
        finish(f, ax, "mpps-by-flows", "active flows", "Mpps per CPU second",
               "lwaftr bench: Mpps by active flows (550 B)", legend_size=8)

    # Sync time by table size (leasequery session's CSV).
    lq = os.path.join(outdir, "leasequery.csv")
    if os.path.exists(lq):
        scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
        by_metric = {}
        with open(lq, newline="") as fh:
            for r in csv.DictReader(fh):
                if r["unit"] in scale:
                    by_metric.setdefault(r["metric"], []).append(
                        (float(r["table_size"]), float(r["value"]) * scale[r["unit"]]))
        if by_metric:
            f, ax = plt.subplots(figsize=(7, 4))
            for metric, pts in sorted(by_metric.items()):
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=metric)
            ax.set_xscale("log")
            ax.set_yscale("log")
            finish(f, ax, "sync-by-table-size", "binding-table size (softwires)", "seconds",
                   "Leasequery: sync time by table size", legend_size=8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="Bench/results/matrix.csv")
    ap.add_argument("--outdir", default="Bench/results")
    ap.add_argument("--readme", help="also copy the table into this README between the bench-table markers")
    a = ap.parse_args()
    rows = read_matrix(a.csv)
    text = table(rows, a.outdir)
    plots(rows, a.outdir)
    if a.readme:
        # Plots that exist are linked below the table (relative to the README's folder).
        rel = os.path.relpath(a.outdir, os.path.dirname(os.path.abspath(a.readme)) or ".")
        links = [f"![{title}]({rel}/{name}.svg)" for name, title in
                 [("mpps-by-size", "Mpps by frame size"), ("mpps-by-flows", "Mpps by active flows"),
                  ("sync-by-table-size", "Leasequery sync time by table size")]
                 if os.path.exists(os.path.join(a.outdir, name + ".svg"))]
        splice(a.readme, text + ("\n" + "\n".join(links) + "\n" if links else ""))


if __name__ == "__main__":
    main()
