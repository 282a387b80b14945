#!/usr/bin/python3
"""Replays ab's round allocation on the rounds of a finished ab session (a tuning aid).

usage: scripts/ab-replay.py SESSION_DIR MAIN_ROUNDS MAX_DECIDING_ROUNDS [REPLAYS] [--center]
                            [--effect=REGEX=PCT] [--rule=point] [--budget=MIN]

Reads SESSION_DIR/rounds/{base,new}-NNN.json (uncontended pairs only) and
SESSION_DIR/compare.json (each benchmark's noise threshold), then, REPLAYS times: draws
MAIN_ROUNDS per-round log-ratios per pair (with replacement from the session's own), and
while pairs are undecided (bench/ab.c undecided(): the interval straddles an edge of the
band, or lies beyond it while not significant after the correction) and deciding rounds
are left, one more draw for those pairs only. It judges as compare does (Wilcoxon
signed-rank, normal approximation with continuity correction; Hodges-Lehmann 95%
interval; Benjamini-Hochberg over all pairs; slower/faster only when significant and the
whole interval lies beyond the band) and prints per replay the counts of slower/faster
pairs and the modelled measuring time (ROUND_S per round + PAIR_S per pair measured: a
default-profile round on a 2-vCPU VM took 42 s for 232 pairs, a deciding round ~11 s for 46).

--budget=MIN: modelled minutes in all; each deciding round takes the undecided pairs with
the smallest raw p first, as many as the time left can fund over the deciding rounds left.

--rule=point: a straddling pair is undecided only where its estimate itself lies beyond the
band (ab.c undecided() since 2026-12-03 evening; without it, the rule before).

--center moves every pair's log-ratios to median 0 (an A/A's truth: the session's own
chance offsets would otherwise count as real changes), then adds PCT to the pairs whose
name matches a --effect REGEX (the slowdown a power test injected). Approximate by
construction: exact small-sample p-values, ties and contended rounds are not modelled.
Needs python3-numpy.
"""
import json, math, re, sys
from statistics import NormalDist
import numpy as np

ROUND_S, PAIR_S = 1.5, 0.18
ND = NormalDist()


def load(path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        return {}
    return {b['name']: (b['real_time'], b.get('contended', 0))
            for b in d['benchmarks'] if b.get('run_type') != 'aggregate'}


def session_series(sdir):
    rounds = json.load(open(f'{sdir}/ab.json'))['rounds_run']
    base = [load(f'{sdir}/rounds/base-{i:03d}.json') for i in range(rounds)]
    new = [load(f'{sdir}/rounds/new-{i:03d}.json') for i in range(rounds)]
    out = {}
    for name in set().union(*base):
        lr = [math.log(new[i][name][0] / base[i][name][0]) for i in range(rounds)
              if name in base[i] and name in new[i] and not base[i][name][1] and not new[i][name][1]]
        if len(lr) >= 5:
            out[name] = np.array(lr)
    return out


def wsr_p(d):
    d = d[d != 0]
    m = len(d)
    if m == 0:
        return 1.0
    a = np.abs(d)
    order = np.argsort(a, kind='stable')
    s = a[order]
    ranks = np.empty(m)
    i = 0
    while i < m:
        j = i
        while j + 1 < m and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(m)
    r[order] = ranks
    z = r[d > 0].sum() - m * (m + 1) / 4
    sigma = math.sqrt(m * (m + 1) * (2 * m + 1) / 24)
    z = (z - math.copysign(0.5, z) if z else 0) / sigma
    return 2 * min(ND.cdf(z), 1 - ND.cdf(z))


def hodges_lehmann(d, conf=0.95):
    n = len(d)
    w = np.sort(((d[:, None] + d[None, :]) / 2)[np.triu_indices(n)])
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    k = min(max(1, round(len(w) / 2 - ND.inv_cdf(1 - (1 - conf) / 2) * sd)), (len(w) + 1) // 2)
    return np.median(w), w[k - 1], w[len(w) - k]


def bh(p):
    p = np.asarray(p)
    q = np.empty(len(p))
    run = 1.0
    for k, i in reversed(list(enumerate(np.argsort(p)))):
        run = min(run, p[i] * len(p) / (k + 1))
        q[i] = run
    return q


def judge(samples, bands, rule='interval'):
    """Per pair: (verdict, undecided, raw p)."""
    names = list(samples)
    est = {n: hodges_lehmann(samples[n]) for n in names}
    raw = [wsr_p(samples[n]) for n in names]
    q = bh(raw)
    res = {}
    for n, qn, pn in zip(names, q, raw):
        b = bands[n]
        pe, lo, hi = est[n]
        v = 'slower' if qn < 0.05 and lo > b else 'faster' if qn < 0.05 and hi < -b else 'no_change'
        straddles = (lo <= b < hi) or (hi >= -b > lo)
        if rule == 'point':  # only where the estimate itself lies beyond the band
            straddles = straddles and abs(pe) > b
        beyond = lo > b or hi < -b
        res[n] = (v, straddles or (beyond and v == 'no_change'), pn)
    return res


def replay(series, bands, main_rounds, max_deciding, rng, rule='interval', budget_s=0):
    draw = lambda n, k: series[n][rng.integers(len(series[n]), size=k)]
    samples = {n: draw(n, main_rounds) for n in series}
    t = main_rounds * (ROUND_S + PAIR_S * len(series))
    for d in range(max_deciding):
        j = judge(samples, bands, rule)
        undecided = sorted((n for n, (_, u, _) in j.items() if u), key=lambda n: j[n][2])
        if not undecided:
            break
        if budget_s > 0:  # the most promising (smallest p) that the budget left can fund
            per_round = (budget_s - t) / (max_deciding - d)
            k = int((per_round - ROUND_S) / PAIR_S)
            if k < 1:
                break
            undecided = undecided[:k]
        for n in undecided:
            samples[n] = np.append(samples[n], draw(n, 1))
        t += ROUND_S + PAIR_S * len(undecided)
    return judge(samples, bands), t


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    effects = [a[len('--effect='):].rsplit('=', 1) for a in argv if a.startswith('--effect=')]
    if len(args) < 3:
        sys.exit(__doc__)
    sdir, main_rounds, max_deciding = args[0], int(args[1]), int(args[2])
    replays = int(args[3]) if len(args) > 3 else 10
    series = session_series(sdir)
    cmp = json.load(open(f'{sdir}/compare.json'))
    bands = {b['name']: math.log1p(b['noise_threshold_pct'] / 100) for b in cmp['benchmarks']}
    series = {n: s for n, s in series.items() if n in bands}
    if '--center' in argv:
        for n in series:
            pct = sum(float(p) for rx, p in effects if re.search(rx, n))
            series[n] = series[n] - np.median(series[n]) + math.log1p(pct / 100)
    rng = np.random.default_rng(1)
    for k in range(replays):
        rule = 'point' if '--rule=point' in argv else 'interval'
        budget = [float(a.split('=', 1)[1]) * 60 for a in argv if a.startswith('--budget=')]
        res, t = replay(series, bands, main_rounds, max_deciding, rng, rule,
                        budget[0] if budget else 0)
        flagged = sorted(n for n, (v, _, _) in res.items() if v != 'no_change')
        print(f'replay {k + 1}: {len(flagged)} flagged of {len(res)}, {t / 60:.1f} min modelled: '
              + ' '.join(f'{n}={res[n][0]}' for n in flagged), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
