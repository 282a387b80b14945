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

# Bar charts whose bars differ by more than 20x: a log y axis, so that the short bars can
# be read beside the tall ones. Set barcols to the data columns drawn as bars ('2', or
# '2 3 4'), then `eval bar_scale`; bar_log is 1 when the axis went logarithmic. Templates
# label each bar with barlabel(value) (3 significant figures, k/M for thousands/millions).
bar_log = 0
bar_scale = "bar_lo = 1e300; bar_hi = 0; \
  do for [bc in barcols] { \
    stats datafile using int(bc) nooutput; \
    if (STATS_records > 0 && STATS_min > 0 && STATS_min < bar_lo) { bar_lo = STATS_min }; \
    if (STATS_records > 0 && STATS_max > bar_hi) { bar_hi = STATS_max } }; \
  if (bar_hi > 20 * bar_lo) { \
    bar_log = 1; set logscale y 10; set yrange [bar_lo / 3 : bar_hi * 3]; \
    if (bar_hi >= 1e4) { set format y '%.0s%c' } else { set format y '%g' }; \
    set grid mytics }"
barlabel(v) = v >= 1e6 ? sprintf('%.2fM', v / 1e6) : v >= 1e4 ? sprintf('%.0fk', v / 1e3) : \
              v >= 100 ? sprintf('%.0f', v) : v >= 10 ? sprintf('%.1f', v) : sprintf('%.3g', v)
