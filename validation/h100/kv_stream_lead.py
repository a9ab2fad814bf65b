#!/usr/bin/env python3
"""Does a CTA's lead in the K/V stream change its pace on the GPU? (issue 4, NOTES (k))

    python3 validation/h100/kv_stream_lead.py [TRACE ...]

For the traced non-causal streaming kernels (`kv_stream_drift.py --trace`: each tile's SM and
the time of every 16th step), each round of tiles that run together (132 persistent CTAs, or
264 grid CTAs at two per SM) is sampled at 20, 40 and 60% of its common span. At each sample a
tile's lead is its step position less the round's median, and its speed is its steps over the
next tenth of the span relative to the round's median speed. Printed per kernel: the correlation
of lead and speed, and the mean relative speed of the top and bottom tenth by lead, first raw,
then with each SM's mean relative speed taken out (so that a fast SM, which leads because it is
fast, does not count as a lead that speeds a CTA up).

A negative correlation after that would be a restoring force (a leader slowed by its L2 misses,
its followers sped up by hits); a positive one a runaway. The committed output
(data/micro/traced/kv_stream_lead.txt) shows neither.
"""
import bisect
import os
import statistics
import sys

from kv_stream_replay import load_trace

HERE = os.path.dirname(os.path.abspath(__file__))
TRACED = os.path.join(HERE, "data", "micro", "traced")
DEFAULT = ["bulk/trace_b_4_131072_0_1_1", "bulk/trace_b_4_131072_150_1_1", "bulk/trace_b_4_131072_300_1_1",
           "bulk/trace_b_4_131072_800_1_1", "bulk/trace_p_4_131072_0_1_1", "base/trace_p_4_131072_0_1_1",
           "base/trace_p_4_131072_800_1_1", "cudnn/trace_b_16_131072_550_1_1", "base/trace_g_4_131072_800_1_1",
           "bulk/trace_g_4_131072_800_1_1", "fa2/trace_g_16_131072_1150_1_1"]


def position(t, every, at):
    """Steps done by time `at`, between checkpoints linearly; None outside the tile."""
    if at <= t[0] or at >= t[-1]:
        return None
    k = bisect.bisect_right(t, at) - 1
    return every * (k + (at - t[k]) / (t[k + 1] - t[k]))


def samples(every, sms, tiles, per_round):
    out = []  # (lead in steps, relative speed - 1, SM)
    for r0 in range(0, len(tiles) - per_round + 1, per_round):
        rnd = tiles[r0:r0 + per_round]
        lo, hi = max(t[0] for t in rnd), min(t[-1] for t in rnd)
        if hi <= lo:
            continue
        for f in (0.2, 0.4, 0.6):
            at, dt = lo + f * (hi - lo), 0.1 * (hi - lo)
            got = []
            for i, t in enumerate(rnd):
                a, b = position(t, every, at), position(t, every, at + dt)
                if a is not None and b is not None:
                    got.append((a, b - a, sms[r0 + i]))
            if len(got) < 0.9 * per_round:
                continue
            lead0 = statistics.median(a for a, _, _ in got)
            speed0 = statistics.median(s for _, s, _ in got)
            out += [(a - lead0, s / speed0 - 1, sm) for a, s, sm in got]
    return out


def summary(pts):
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    corr = sxy / (sxx * syy) ** 0.5 if sxx > 0 and syy > 0 else 0.0
    ranked = sorted(zip(xs, ys))
    k = max(1, len(ranked) // 10)
    return corr, statistics.mean(y for _, y in ranked[:k]), statistics.mean(y for _, y in ranked[-k:])


def main(argv):
    paths = argv or [os.path.join(TRACED, name + ".json.gz") for name in DEFAULT]
    print("%-34s %6s %26s %30s" % ("kernel", "spread", "raw: corr, lag / lead speed", "per-SM mean out: corr, lag / lead"))
    for path in paths:
        trace = load_trace(path[:-3] if path.endswith(".gz") else path)
        every, sms, tiles = trace["every"], trace["tile_sm"], trace["t"]
        grid = os.path.basename(path).split("_")[1] == "g"
        pts = samples(every, sms, tiles, 264 if grid else 132)
        if len(pts) < 10:
            print("%-34s too few samples" % path)
            continue
        by_sm = {}
        for _, y, sm in pts:
            by_sm.setdefault(sm, []).append(y)
        sm_mean = {sm: statistics.mean(v) for sm, v in by_sm.items()}
        resid = [(x, y - sm_mean[sm], sm) for x, y, sm in pts]
        raw, res = summary(pts), summary(resid)
        name = os.path.relpath(path, TRACED).replace("trace_", "").replace(".json.gz", "")
        print("%-34s %4.0f st  %+.2f, %+5.1f%% / %+5.1f%%        %+.2f, %+5.1f%% / %+5.1f%%" %
              (name, statistics.pstdev(p[0] for p in pts), raw[0], 100 * raw[1], 100 * raw[2],
               res[0], 100 * res[1], 100 * res[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
