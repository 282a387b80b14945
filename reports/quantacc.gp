# quantacc.gp: quantization accuracy against compression, one point per quant (labelled):
# top-1 agreement with FP32 (left) and mean KL divergence from FP32 in nats (right).
# datafile: "method" compression [top1] [kld] ...; top1col, kldcol: their columns (0: absent);
# kldwhat: what the KLD was measured on (a text's name, or the accuracy input)
load tpldir.'/common.gp'
set multiplot layout 1,2 title chart_title noenhanced
unset title
set key off
set xlabel 'compression vs fp32 (x)'
set offsets graph 0.1, graph 0.15, graph 0.1, graph 0.1
if (top1col > 0) {
    set ylabel 'top-1 agreement with fp32 (accuracy input), higher is better'
    plot datafile using 2:top1col with points pt 7 ps 1.5 lc rgb '#228833', \
         datafile using 2:top1col:1 with labels offset 0,1 font ',9' notitle
} else {
    set label 1 'no top-1 agreement in these results' at graph 0.5, graph 0.5 center
    plot 2 notitle lc rgb '#ffffff'
    unset label 1
}
if (kldcol > 0) {
    set ylabel 'mean KLD from fp32 on '.kldwhat.' (nats), lower is better' noenhanced
    plot datafile using 2:kldcol with points pt 7 ps 1.5 lc rgb '#aa3377', \
         datafile using 2:kldcol:1 with labels offset 0,1 font ',9' notitle
} else {
    set ylabel 'mean KLD from fp32 (nats)'
    set label 2 'no mean KLD in these results yet' at graph 0.5, graph 0.5 center
    plot 2 notitle lc rgb '#ffffff'
    unset label 2
}
unset multiplot
