# threads.gp: prefill tokens/s against worker threads, one line per kernel.
# datafile: header "threads" "kernel"...; rows: threads tok/s per kernel; ncols = columns
load tpldir.'/common.gp'
set xlabel 'worker threads'
set ylabel 'tokens/s, higher is better'
set key top left
set yrange [0:*]
set format y '%.0f'
set xtics 1
plot for [i=2:ncols] datafile using 1:i with linespoints lw 2 pt 7 title columnheader(i)
