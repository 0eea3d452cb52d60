#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh into markdown.

usage: bench-report.py META RESULTS MEMORY MICRO_JSON|- COMMANDS NGINX_CONF [README]

Without README the markdown goes to stdout; with it, it replaces the text between the
`<!-- bench:begin -->` and `<!-- bench:end -->` markers of that file (appended when they are missing).
"""
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

TEST_TITLES = {
    "plaintext-c64": "plaintext, 64 conns",
    "plaintext-c256": "plaintext, 256 conns",
    "pipeline16-c256": "plaintext, 256 conns, pipeline 16",
    "json-c64": "json, 64 conns",
    "json-by-hand-c64": "json by hand (Boost.JSON, no Json<T>), 64 conns",
}


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    return meta


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(path):
    text = open(path).read()
    out = {"rps": None, "requests": None, "p99_ms": None, "errors": 0}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", text, re.M)
    if m and float(m.group(1)) > 0:  # wrk 4.1 prints 0 when its histogram lost the samples (pipelining)
        out["p99_ms"] = to_ms(m.group(1), m.group(2))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_num(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def results_table(meta, results_path):
    runs = {}  # (threads, test, server) -> list of dicts
    order_tests, order_servers, order_threads = [], meta["servers"].split(), []
    with open(results_path) as f:
        for line in f:
            threads, test, server, _round, ticks, clk_tck, secs, wrk_out = line.rstrip("\n").split("\t")
            r = parse_wrk(wrk_out)
            cpu_seconds = int(ticks) / int(clk_tck)
            r["cpu_us"] = (cpu_seconds * 1e6 / r["requests"]) if r["requests"] else None
            r["busy"] = cpu_seconds / float(secs) * 100
            runs.setdefault((threads, test, server), []).append(r)
            if test not in order_tests:
                order_tests.append(test)
            if threads not in order_threads:
                order_threads.append(threads)

    lines = [
        "| Threads | Test | Server | Req/s (median) | vs nginx | p99 latency | CPU per request | Server CPU use "
        "| Req/s of each round |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for threads in order_threads:
        for test in order_tests:
            base = median([r["rps"] for r in runs.get((threads, test, "nginx"), [])])
            for server in order_servers:
                rs = runs.get((threads, test, server))
                if not rs:
                    continue
                rps = median([r["rps"] for r in rs])
                p99 = median([r["p99_ms"] for r in rs])
                cpu = median([r["cpu_us"] for r in rs])
                busy = median([r["busy"] for r in rs])
                errors = sum(r["errors"] for r in rs)
                ratio = f"{rps / base:.2f}x" if rps and base else "n/a"
                rounds = " / ".join(fmt_num(r["rps"]) for r in rs)
                if errors:
                    rounds += f" ({errors} socket errors or non-2xx)"
                lines.append(
                    f"| {threads} | {TEST_TITLES.get(test, test)} | {server} | {fmt_num(rps)} | {ratio} | "
                    f"{fmt_num(p99, 2) + ' ms' if p99 is not None else 'n/a'} | {fmt_num(cpu, 2)} µs | {fmt_num(busy)} % | {rounds} |")
    return lines


def memory_table(meta, memory_path):
    idle = {}  # server -> {threads: (rss_kb, pss_kb)}
    per_conn = {}
    with open(memory_path) as f:
        for line in f:
            server, threads, idle_kb, pss_kb, delta_kb, conns = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
            idle.setdefault(server, {})[threads] = (int(idle_kb), int(pss_kb or 0))
            if delta_kb and conns:
                per_conn[server] = (int(delta_kb), int(conns))
    thread_counts = sorted({t for v in idle.values() for t in v}, key=int)
    head = "| Server | " + " | ".join(f"Idle RSS (PSS), {t} thread{'s' if t != '1' else ''}" for t in thread_counts)
    head += f" | RSS growth, {meta.get('idle_conns', '?')} idle keep-alive conns | RSS per idle conn |"
    lines = [head, "|---|" + "---:|" * (len(thread_counts) + 2)]
    for server in meta["servers"].split():
        if server not in idle:
            continue
        cells = [f"{idle[server][t][0] / 1024:.1f} MiB ({idle[server][t][1] / 1024:.1f})" if t in idle[server] else "n/a"
                 for t in thread_counts]
        if server in per_conn:
            delta, n = per_conn[server]
            cells += [f"{delta / 1024:.1f} MiB", f"{delta * 1024 / n:,.0f} B"]
        else:
            cells += ["n/a", "n/a"]
        lines.append(f"| {server} | " + " | ".join(cells) + " |")
    return lines


def micro_table(path):
    data = json.load(open(path))
    lines = ["| Benchmark | CPU time | Throughput |", "|---|---:|---:|"]
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        unit = b.get("time_unit", "ns")
        extra = []
        if "items_per_second" in b:
            extra.append(f"{b['items_per_second'] / 1e6:.2f} M items/s")
        if "bytes_per_second" in b:
            extra.append(f"{b['bytes_per_second'] / 2**20:,.0f} MiB/s")
        lines.append(f"| {b['name']} | {b['cpu_time']:,.1f} {unit} | {', '.join(extra) or ''} |")
    ctx = data.get("context", {})
    if ctx.get("library_build_type") == "debug":
        lines.append("")
        lines.append("(Google Benchmark reports its own library as a debug build, as Debian packages it; the "
                     "code under test is a Release build.)")
    return lines


def main():
    meta_path, results_path, memory_path, micro_path, commands_path, nginx_conf = sys.argv[1:7]
    readme = sys.argv[7] if len(sys.argv) > 7 else None
    meta = read_meta(meta_path)
    out = [BEGIN, "",
           f"Run of {meta['date']} on {meta['nproc']} × {meta['cpu']} (`nproc` = {meta['nproc']}), Linux "
           f"{meta['kernel']}, load average {meta['load']} at the start and {meta.get('load_end', '?')} at the end. Zephyr {meta['commit']}, {meta['compiler']}, "
           f"wrk {meta['wrk']}, nginx {meta['nginx']}. Each wrk run lasts {meta['duration']} s; "
           f"{meta['rounds']} rounds interleave the servers test by test and the median is shown. Every server "
           f"first gets a {meta['warmup']} s warm-up."
           + (f" Servers and wrk ran at nice {meta['nice']}." if meta.get("nice") else ""),
           "",
           "1 thread: the server is pinned to CPU 1 (`taskset -c 1`) and wrk, with one thread, to CPU 0. "
           "2 threads: the box has only 2 cores, so the server (2 threads or worker processes) and wrk "
           "(2 threads) all run unpinned on both cores and compete for them; those rows measure efficiency "
           "under contention, not scaling. CPU per request is the server's utime+stime (all threads and worker "
           "processes, from /proc/PID/stat) over the run divided by the requests wrk completed; server CPU use is "
           "the same time over the run's duration (100 % = one core busy; below that the server was not the "
           "bottleneck and its req/s mostly reflect the load generator). p99 is wrk's "
           "`--latency` 99th percentile; with pipelining wrk 4.1 often prints 0 for it, shown as n/a.",
           ""]
    out += results_table(meta, results_path)
    out += ["", "Memory (VmRSS summed over the server's processes, and in parentheses their PSS, which counts pages "
            "that nginx's master and workers share only once; idle is measured right after start, before any request; "
            f"the connection test opens {meta.get('idle_conns', '?')} keep-alive connections that each served one "
            "request and then sit idle, on the 1-thread server):", ""]
    out += memory_table(meta, memory_path)
    if micro_path != "-" and os.path.exists(micro_path):
        out += ["", f"Microbenchmarks (`bench/micro`, Google Benchmark, `--benchmark_min_time={meta['micro_min_time']}`, "
                "pinned to one core):", ""]
        out += micro_table(micro_path)
    out += ["", "Commands (`$PORT` is a free port picked per server, `$TMP` the run's temporary directory):", "",
            "```sh"]
    out += [line.rstrip("\n") for line in open(commands_path)]
    out += ["```"]
    if os.path.exists(nginx_conf):
        out += ["", "<details><summary>The generated nginx configuration</summary>", "", "```nginx"]
        out += [line.rstrip("\n") for line in open(nginx_conf)]
        out += ["```", "", "</details>"]
    out += ["", END]
    block = "\n".join(out) + "\n"

    if readme is None:
        sys.stdout.write(block)
        return
    text = open(readme).read() if os.path.exists(readme) else ""
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        stop = text.index(END) + len(END)
        if text[stop:stop + 1] == "\n":
            stop += 1
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block
    with open(readme, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
