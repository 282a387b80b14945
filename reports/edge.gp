# edge.gp: edge platforms: prefill tokens/s per platform (emulated rows are labelled so).
# datafile: "platform" tokens_per_second latency_ms (one row per platform)
load tpldir.'/common.gp'
set ylabel 'tokens/s, higher is better'
set yrange [0:*]
set format y '%.0f'
set xrange [-0.6:*]
set boxwidth 0.6
set key off
set xtics noenhanced rotate by -20
plot datafile using 0:2:xtic(1) with boxes lc rgb '#aa3377'
