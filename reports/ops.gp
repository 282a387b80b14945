# ops.gp: operation profile: us per top-level op of one prefill, one bar per kernel. The ops
# differ by far more than 20x, so the axis goes logarithmic then, and each bar is labelled
# with its value.
# datafile: header "op" "kernel"...; rows: "zone" us per kernel; ncols = columns
load tpldir.'/common.gp'
set style data histograms
set style histogram clustered gap 1
set ylabel 'us per prefill'
set yrange [0:*]
set xtics rotate by -35 noenhanced
set bmargin 7
set key top left
barcols = ''
do for [i=2:ncols] { barcols = barcols.' '.i }
eval bar_scale
if (bar_log) { set ylabel 'us per prefill (log scale)' }
nser = ncols - 1
# a bar's x in a clustered histogram with gap 1: cluster $0, series k of nser
barx(k) = $0 + (k - (nser - 1) / 2.0) / (nser + 1.0)
plot for [i=2:ncols] datafile using i:xtic(1) title columnheader(i), \
     for [i=2:ncols] datafile using (barx(i - 2)):i:(barlabel(column(i))) every ::1 \
         with labels rotate by 90 left offset 0,0.4 font ',7' notitle
