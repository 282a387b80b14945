# common.gp: terminal and style shared by the chart templates (loaded by each).
# Variables set by `itera-bench report` with -e: tpldir, datafile, outfile, term ('pngcairo' or
# 'svg'), chart_title, and for multi-series charts ncols (columns in datafile).
if (term eq 'svg') {
    set terminal svg size 900,520 dynamic enhanced font 'sans,11' background '#ffffff'
} else {
    set terminal pngcairo size 900,520 enhanced font 'sans,10' background '#ffffff'
}
set output outfile
set title chart_title noenhanced
set datafile missing '?'
set key noenhanced
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set style fill solid 0.7 border -1
