#!/usr/bin/env bash
# bench/scale/report.sh RESULTS.tsv [OUT.svg]: the table of bench/scale.sh
# (cost per operation at each size, largest / smallest, target 1.3) and a
# small SVG plot of the same ratios (x: wallets, log scale; y: cost relative
# to the smallest size). Written with awk only: no python on a minimal Debian.
set -euo pipefail
results=$1
svg=${2:-}

# op, label, unit, plotted (1) or not
ops='purchase_settle|purchase + settle (1/throughput)|ms|1
numbers_page_first|GET /api/numbers, first page|ms|1
numbers_page_deep|GET /api/numbers, page near the oldest|ms|1
transactions_page_first|GET /api/transactions, first page|ms|0
transactions_page_deep|GET /api/transactions, page near the oldest|ms|1
refund_quote|GET /api/numbers/{id}/refund-quote|ms|1
renewal_us|renewal pass, per number renewed|µs|1
renewal_per_s|renewal pass, numbers renewed per second|1/s|0
renewal_private_kb|renewal pass, backend private peak growth|kB|0
sweep_page|reconcile sweep, per page of 1,000|ms|1
buyer_page|buyer page before first render|ms|1
buyer_page_bytes|buyer page weight|bytes|0
operator_page|operator page before first render|ms|1
operator_page_bytes|operator page weight|bytes|0
metrics_snapshot|metrics_snapshot() (a /metrics scrape, cached 15 s)|ms|1'

awk -F'\t' -v ops="$ops" -v svg="$svg" '
function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : (v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v)) }
function lg(v) { return log(v) / log(10) }
/^#/ { header = $0; next }
{ value[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; sizes[++ns] = $2 } }
END {
  # sizes in increasing order
  for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (sizes[j] + 0 < sizes[i] + 0) { t = sizes[i]; sizes[i] = sizes[j]; sizes[j] = t }
  n = split(ops, lines, "\n")
  print header
  line = sprintf("%-52s %5s", "operation", "unit")
  for (i = 1; i <= ns; i++) line = line sprintf(" %10s", sizes[i])
  print line sprintf(" %7s %7s", "ratio", "<= 1.3")
  np = 0
  for (k = 1; k <= n; k++) {
    split(lines[k], f, "|")
    op = f[1]; if (!((op, sizes[1]) in value)) continue
    line = sprintf("%-52s %5s", f[2], f[3])
    for (i = 1; i <= ns; i++) line = line sprintf(" %10s", ((op, sizes[i]) in value) ? value[op, sizes[i]] : "-")
    first = value[op, sizes[1]]; last = value[op, sizes[ns]]
    ratio = (first > 0 && last != "") ? last / first : 0
    if (op == "renewal_per_s") ratio = (last > 0) ? first / last : 0   # a rate: cost is its inverse
    verdict = (op ~ /_bytes$|_private_kb$/) ? "" : (ratio <= 1.3 ? "met" : "MISSED")
    print line sprintf(" %7.2f %7s", ratio, verdict)
    if (f[4] == 1) { plotted[++np] = op; label[op] = f[2] }
  }
  if ("data_rows" in seen || 1) {
    line = sprintf("%-52s %5s", "data: wallets/numbers/ledger rows/database", "")
    for (i = 1; i <= ns; i++) line = line " " value["data_rows", sizes[i]]
    print line
    line = sprintf("%-52s %5s", "data: generated in", "s")
    for (i = 1; i <= ns; i++) line = line sprintf(" %10s", value["data_seconds", sizes[i]])
    print line
  }
  if (svg == "" || ns < 2) exit
  # ---- the plot ----
  W = 820; H = 360; L = 60; R = 360; T = 30; B = 50
  pw = W - L - R; ph = H - T - B
  x0 = lg(sizes[1]); x1 = lg(sizes[ns]); if (x1 == x0) x1 = x0 + 1
  ymin = 0.5; ymax = 2   # log scale: cost ratios from 0.5 up
  for (p = 1; p <= np; p++) for (i = 1; i <= ns; i++) {
    op = plotted[p]; r = value[op, sizes[i]] / value[op, sizes[1]]; if (r > ymax) ymax = r; if (r > 0 && r < ymin) ymin = r
  }
  ly0 = lg(ymin); ly1 = lg(ymax)
  split("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf", color, " ")
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H > svg
  printf "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H > svg
  printf "<text x=\"%d\" y=\"18\" font-size=\"13\">Cost per operation relative to %s wallets (bench/scale.sh)</text>\n", L, sizes[1] > svg
  # axes, grid, the 1.3 target
  printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T + ph, L + pw, T + ph > svg
  printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, T + ph > svg
  for (i = 1; i <= ns; i++) {
    x = L + pw * (lg(sizes[i]) - x0) / (x1 - x0)
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, T, x, T + ph > svg
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">10^%g</text>\n", x, T + ph + 15, int(lg(sizes[i]) * 10 + 0.5) / 10 > svg
  }
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">wallets (log scale)</text>\n", L + pw / 2, T + ph + 35 > svg
  nt = split("0.1 0.2 0.5 1 2 5 10 20 50 100 200 500 1000", tick, " ")
  for (s = 1; s <= nt; s++) {
    v = tick[s]; if (v < ymin || v > ymax) continue; y = T + ph - ph * (lg(v) - ly0) / (ly1 - ly0)
    printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n", L, y, L + pw, y > svg
    printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 5, y + 4, v > svg
  }
  y = T + ph - ph * (lg(1.3) - ly0) / (ly1 - ly0)
  printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"red\" stroke-dasharray=\"4 3\"/>\n", L, y, L + pw, y > svg
  printf "<text x=\"%d\" y=\"%.1f\" fill=\"red\">1.3</text>\n", L + pw + 3, y + 4 > svg
  printf "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">cost / cost at %s (log scale)</text>\n", T + ph / 2, T + ph / 2, sizes[1] > svg
  for (p = 1; p <= np; p++) {
    op = plotted[p]; pts = ""
    for (i = 1; i <= ns; i++) {
      if (!((op, sizes[i]) in value)) continue
      r = value[op, sizes[i]] / value[op, sizes[1]]
      pts = pts sprintf("%.1f,%.1f ", L + pw * (lg(sizes[i]) - x0) / (x1 - x0), T + ph - ph * (lg(r) - ly0) / (ly1 - ly0))
    }
    c = color[(p - 1) % 10 + 1]
    printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", pts, c > svg
    ly = T + 10 + (p - 1) * 16
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n", L + pw + 25, ly, L + pw + 40, ly, c > svg
    gsub(/&/, "\\&amp;", label[op])
    printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + pw + 44, ly + 4, label[op] > svg
  }
  print "</svg>" > svg
  print "plot: " svg
}' "$results"

