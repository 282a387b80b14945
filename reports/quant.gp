# quant.gp: quantization: stored weight size and prefill latency per method, side by side.
# datafile: "method" size_mb latency_ms (one row per method)
load tpldir.'/common.gp'
set multiplot layout 1,2 title chart_title noenhanced
unset title
set key off
set boxwidth 0.6
set yrange [0:*]
set xrange [-0.6:*]
set ylabel 'weights (MB)'
plot datafile using 0:2:xtic(1) with boxes lc rgb '#228833'
set ylabel 'latency (ms), lower is better'
plot datafile using 0:3:xtic(1) with boxes lc rgb '#4477aa'
unset multiplot
