# quant.gp: quantization: stored weight size and prefill latency per method, side by side,
# each bar labelled with its value; a panel goes logarithmic when its bars differ by more
# than 20x.
# datafile: "method" size_mb latency_ms (one row per method)
load tpldir.'/common.gp'
set multiplot layout 1,2 title chart_title noenhanced
unset title
set key off
set boxwidth 0.6
set yrange [0:*]
set xrange [-0.6:*]
set ylabel 'weights (MB)'
barcols = '2'
eval bar_scale
if (bar_log) { set ylabel 'weights (MB, log scale)' }
plot datafile using 0:2:xtic(1) with boxes lc rgb '#228833', \
     datafile using 0:2:(barlabel($2)) with labels offset 0,0.7 font ',9' notitle
unset logscale y
set yrange [0:*]
set format y '% h'
bar_log = 0
set ylabel 'latency (ms), lower is better'
barcols = '3'
eval bar_scale
if (bar_log) { set ylabel 'latency (ms, log scale), lower is better' }
plot datafile using 0:3:xtic(1) with boxes lc rgb '#4477aa', \
     datafile using 0:3:(barlabel($3)) with labels offset 0,0.7 font ',9' notitle
unset multiplot
