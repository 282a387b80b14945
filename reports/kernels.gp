# kernels.gp: scan kernel comparison: median latency bars with interquartile-range error
# bars, each bar labelled with its value; a log axis when the bars differ by more than 20x.
# datafile: "kernel" median_ms q1_ms q3_ms min_ms max_ms (one row per kernel, fastest first)
load tpldir.'/common.gp'
set ylabel 'latency (ms), lower is better'
set yrange [0:*]
set boxwidth 0.6
set key off
set xrange [-0.6:*]
barcols = '2 4'
eval bar_scale
if (bar_log) { set ylabel 'latency (ms, log scale), lower is better' }
plot datafile using 0:2:xtic(1) with boxes lc rgb '#4477aa' title 'median', \
     datafile using 0:2:3:4 with yerrorbars lc rgb '#000000' pt 0 lw 1.5 title 'interquartile range', \
     datafile using 0:4:(barlabel($2)) with labels offset 0,0.7 font ',9' notitle
