# seqlen.gp: tokens/s against sequence length L (log scale), one line per kernel.
# datafile: header "L" "kernel"...; rows: L tok/s per kernel ('?' = absent); ncols = columns
load tpldir.'/common.gp'
set logscale x 2
set xlabel 'sequence length L'
set ylabel 'tokens/s, higher is better'
set key top left
set yrange [0:*]
set format y '%.0f'
plot for [i=2:ncols] datafile using 1:i with linespoints lw 2 pt 7 title columnheader(i)
