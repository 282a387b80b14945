# ops.gp: operation profile: us per top-level op of one prefill, one bar per kernel.
# datafile: header "op" "kernel"...; rows: "zone" us per kernel; ncols = columns
load tpldir.'/common.gp'
set style data histograms
set style histogram clustered gap 1
set ylabel 'us per prefill'
set yrange [0:*]
set xtics rotate by -35 noenhanced
set bmargin 7
set key top right
plot for [i=2:ncols] datafile using i:xtic(1) title columnheader(i)
