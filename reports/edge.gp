# edge.gp: edge platforms: prefill tokens/s per platform (emulated rows are labelled so),
# each bar labelled with its value; a log axis when the bars differ by more than 20x (the
# PyTorch row beside the engine).
# datafile: "platform" tokens_per_second latency_ms (one row per platform)
load tpldir.'/common.gp'
set ylabel 'tokens/s, higher is better'
set yrange [0:*]
set format y '%.0f'
set xrange [-0.6:*]
set boxwidth 0.6
set key off
set xtics noenhanced rotate by -20
barcols = '2'
eval bar_scale
if (bar_log) { set ylabel 'tokens/s (log scale), higher is better' }
plot datafile using 0:2:xtic(1) with boxes lc rgb '#aa3377', \
     datafile using 0:2:(barlabel($2)) with labels offset 0,0.7 font ',9' notitle
