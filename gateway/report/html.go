package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// palette colours the rules of the exceptions chart (Okabe–Ito, readable
// with colour-vision deficiencies), each with the class of text that
// shows on it. Every chart also labels its values in text.
var palette = []struct{ Fill, Class string }{
	{"#0072B2", "on-dark"},
	{"#E69F00", ""},
	{"#009E73", "on-dark"},
	{"#CC79A7", ""},
	{"#56B4E9", ""},
	{"#D55E00", "on-dark"},
	{"#F0E442", ""},
	{"#444444", "on-dark"},
}

// ageNames describes the AgeBuckets for people.
var ageNames = [4]string{"under 1 day", "1–3 days", "3–7 days", "over 7 days"}

// page is what the HTML template renders: every figure already formatted
// and every chart laid out in pixels.
type page struct {
	Date      string
	Generated string
	Files     []string // the CSV file names
	Summary   []stat
	Suppliers []supplierView
	Total     supplierView
	Ack       ackChart
	Rules     ruleChart
	RuleTable ruleTable
	Aging     agingChart
	AgingRows []agingRow
}

type stat struct{ Label, Value string }

type supplierView struct {
	Partner      string
	POsSent      int
	Acknowledged int
	OnTime       string // "17 (85%)"
	P50, P90     string
	ShipNotices  int
	ASNAccuracy  string
	Invoices     int
	InvoiceMatch string
	OpenByAge    [4]int
	SLABreaches  int
}

type ackChart struct {
	Width, Height       int
	BarX, BarMax, TextX int
	GridTop, GridBottom int
	Grid                []tick
	Rows                []ackBar
}

type tick struct {
	X, Y  int
	Label string
}

type ackBar struct {
	Y, TextY, Width int
	Label, Full     string
	Text            string
	Total           bool
}

type ruleChart struct {
	Width, Height       int
	PlotLeft, PlotRight int
	PlotTop, Base       int
	Empty               bool
	YTicks              []tick
	Days                []dayBar
	Legend              []legendItem
	Stripes             []stripe // patterns for the rules beyond the palette
}

type dayBar struct {
	X, W, LabelX, LabelY int
	Day, Short           string
	Total                int
	TotalY               int
	Segments             []segment
}

type segment struct {
	Y, H        int
	Fill, Class string
	Title       string
	Count       int
	ShowCount   bool
	CountY      int
}

type legendItem struct {
	X, Y              int
	Fill, Rule, Short string
}

type stripe struct{ ID, Fill string }

type ruleTable struct {
	Rules  []string
	Rows   []ruleTableRow
	Totals []int
	Total  int
}

type ruleTableRow struct {
	Day    string
	Counts []int
	Total  int
}

type agingChart struct {
	Width, Height int
	Base          int
	Bars          []agingBar
}

type agingBar struct {
	X, Y, W, H     int
	LabelX, CountY int
	Label, Name    string
	Count          int
}

type agingRow struct {
	Bucket, Name string
	Count        int
}

func renderHTML(r Report) ([]byte, error) {
	p := page{
		Date:      r.Date,
		Generated: r.GeneratedAt.UTC().Format(time.RFC3339),
		Total:     viewSupplier(r.Totals),
	}
	for _, k := range fileKinds[1:] {
		p.Files = append(p.Files, k.prefix+r.Date+k.suffix)
	}
	for _, s := range r.Suppliers {
		p.Suppliers = append(p.Suppliers, viewSupplier(s))
	}
	open := 0
	for _, n := range r.Aging {
		open += n
	}
	t := r.Totals
	p.Summary = []stat{
		{"POs sent", strconv.Itoa(t.POsSent)},
		{"Acknowledged on time", onTime(t)},
		{"Median time to 855", latency(t.AckLatencyP50, t.Acknowledged)},
		{"Ship-notice accuracy", percent(t.ShipNoticesAccurate, t.ShipNotices)},
		{"Invoice match rate", percent(t.InvoicesMatched, t.Invoices)},
		{"Open exceptions", strconv.Itoa(open)},
		{"SLA breaches", strconv.Itoa(t.SLABreaches)},
	}
	p.Ack = buildAckChart(r)
	p.Rules, p.RuleTable = buildRuleChart(r)
	p.Aging = buildAgingChart(r)
	for i, label := range AgeBuckets {
		p.AgingRows = append(p.AgingRows, agingRow{Bucket: label, Name: ageNames[i], Count: r.Aging[i]})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func viewSupplier(s SupplierRow) supplierView {
	return supplierView{
		Partner:      s.Partner,
		POsSent:      s.POsSent,
		Acknowledged: s.Acknowledged,
		OnTime:       onTime(s),
		P50:          latency(s.AckLatencyP50, s.Acknowledged),
		P90:          latency(s.AckLatencyP90, s.Acknowledged),
		ShipNotices:  s.ShipNotices,
		ASNAccuracy:  percent(s.ShipNoticesAccurate, s.ShipNotices),
		Invoices:     s.Invoices,
		InvoiceMatch: percent(s.InvoicesMatched, s.Invoices),
		OpenByAge:    s.OpenByAge,
		SLABreaches:  s.SLABreaches,
	}
}

// onTime shows POs acknowledged on time as a count and a share of the POs
// sent.
func onTime(s SupplierRow) string {
	return fmt.Sprintf("%d (%s)", s.AckedOnTime, percent(s.AckedOnTime, s.POsSent))
}

// percent shows n of d as a percentage to a tenth, "—" when d is zero.
// Only all of d shows as 100% and only none of it as 0%.
func percent(n, d int) string {
	if d == 0 {
		return "—"
	}
	p := math.Round(float64(n)*1000/float64(d)) / 10
	switch {
	case n < d && p >= 100:
		p = 99.9
	case n > 0 && p <= 0:
		p = 0.1
	}
	if p == math.Trunc(p) {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

// latency shows a duration for people, "—" when n (the number of
// latencies behind it) is zero.
func latency(d time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return humanDuration(d)
}

// humanDuration shows d as "45s", "12m", "3h12m" or "1d4h", truncated.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", max(d, 0)/time.Second)
	}
	days := d / (24 * time.Hour)
	h := d % (24 * time.Hour) / time.Hour
	m := d % time.Hour / time.Minute
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case m > 0:
		if h == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		return fmt.Sprintf("%dh", h)
	}
}

// truncate shortens s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func buildAckChart(r Report) ackChart {
	const top, rowH, barH = 30, 26, 16
	c := ackChart{Width: 820, BarX: 200, BarMax: 300, TextX: 512, GridTop: top - 6}
	rows := append(append([]SupplierRow{}, r.Suppliers...), r.Totals)
	for i, s := range rows {
		y := top + i*rowH
		b := ackBar{Y: y, TextY: y + 12, Full: s.Partner, Label: truncate(s.Partner, 28), Total: i == len(rows)-1}
		switch {
		case s.POsSent == 0:
			b.Text = "no POs sent"
		default:
			b.Width = s.AckedOnTime * c.BarMax / s.POsSent
			b.Text = fmt.Sprintf("%s on time (%d of %d)", percent(s.AckedOnTime, s.POsSent), s.AckedOnTime, s.POsSent)
			if s.Acknowledged == 0 {
				b.Text += " · no 855 yet"
			} else {
				b.Text += fmt.Sprintf(" · p50 %s · p90 %s", humanDuration(s.AckLatencyP50), humanDuration(s.AckLatencyP90))
			}
		}
		c.Rows = append(c.Rows, b)
	}
	c.Height = top + len(rows)*rowH + 4
	c.GridBottom = c.Height - 4
	for _, pct := range []int{0, 25, 50, 75, 100} {
		c.Grid = append(c.Grid, tick{X: c.BarX + pct*c.BarMax/100, Y: 14, Label: strconv.Itoa(pct) + "%"})
	}
	return c
}

func buildRuleChart(r Report) (ruleChart, ruleTable) {
	const left, top, plotH, slot, barW = 48, 24, 200, 52, 34
	day0, _ := time.Parse(time.DateOnly, r.Date)
	day0 = day0.AddDate(0, 0, 1-WindowDays)
	var rules []string
	counts := map[string]map[string]int{}
	for _, rd := range r.ExceptionsByRule {
		if counts[rd.Rule] == nil {
			counts[rd.Rule] = map[string]int{}
			rules = append(rules, rd.Rule)
		}
		counts[rd.Rule][rd.Day] += rd.Count
	}

	t := ruleTable{Rules: rules, Totals: make([]int, len(rules))}
	maxTotal := 0
	for i := range WindowDays {
		day := day0.AddDate(0, 0, i).Format(time.DateOnly)
		row := ruleTableRow{Day: day}
		for j, rule := range rules {
			n := counts[rule][day]
			row.Counts = append(row.Counts, n)
			row.Total += n
			t.Totals[j] += n
		}
		t.Total += row.Total
		maxTotal = max(maxTotal, row.Total)
		t.Rows = append(t.Rows, row)
	}

	c := ruleChart{
		Width: left + WindowDays*slot + 16, PlotLeft: left, PlotTop: top, Base: top + plotH,
		Empty: t.Total == 0,
	}
	c.PlotRight = left + WindowDays*slot
	scale := float64(plotH) / float64(max(maxTotal, 1))
	y := func(n int) int { return c.Base - int(math.Round(float64(n)*scale)) }
	ticks := []int{0}
	for _, n := range []int{(maxTotal + 1) / 2, maxTotal} {
		if n > ticks[len(ticks)-1] {
			ticks = append(ticks, n)
		}
	}
	for _, n := range ticks {
		c.YTicks = append(c.YTicks, tick{X: left - 6, Y: y(n), Label: strconv.Itoa(n)})
	}
	for i, row := range t.Rows {
		x := left + i*slot + (slot-barW)/2
		b := dayBar{
			X: x, W: barW, LabelX: x + barW/2, LabelY: c.Base + 16,
			Day: row.Day, Short: row.Day[5:], Total: row.Total, TotalY: y(row.Total) - 4,
		}
		cum := 0
		for j, n := range row.Counts {
			if n == 0 {
				continue
			}
			y0, y1 := y(cum), y(cum+n)
			cum += n
			fill, class := ruleFill(j)
			b.Segments = append(b.Segments, segment{
				Y: y1, H: y0 - y1, Fill: fill, Class: class,
				Title: fmt.Sprintf("%s %s: %d", row.Day, rules[j], n),
				Count: n, ShowCount: y0-y1 >= 14, CountY: (y0+y1)/2 + 4,
			})
		}
		c.Days = append(c.Days, b)
	}
	for j := range min(len(rules)-len(palette), len(palette)) {
		c.Stripes = append(c.Stripes, stripe{ID: fmt.Sprintf("stripes-%d", j), Fill: palette[j].Fill})
	}
	const perRow, itemW, itemH = 4, 190, 20
	legendTop := c.Base + 34
	for j, rule := range rules {
		fill, _ := ruleFill(j)
		c.Legend = append(c.Legend, legendItem{
			X: left + j%perRow*itemW, Y: legendTop + j/perRow*itemH,
			Fill: fill, Rule: rule, Short: truncate(rule, 26),
		})
	}
	c.Height = legendTop + (len(rules)+perRow-1)/perRow*itemH + 8
	return c, t
}

// ruleFill returns the fill of the j-th rule and the class of text on it:
// the palette's colours, then the same colours striped, then again.
func ruleFill(j int) (fill, class string) {
	col := palette[j%len(palette)]
	if j/len(palette)%2 == 1 {
		return fmt.Sprintf("url(#stripes-%d)", j%len(palette)), "halo"
	}
	return col.Fill, col.Class
}

func buildAgingChart(r Report) agingChart {
	const left, top, plotH, slot, barW = 20, 24, 150, 105, 60
	c := agingChart{Width: left*2 + 4*slot, Base: top + plotH}
	c.Height = c.Base + 40
	maxCount := 1
	for _, n := range r.Aging {
		maxCount = max(maxCount, n)
	}
	for i, n := range r.Aging {
		h := int(math.Round(float64(n) * plotH / float64(maxCount)))
		x := left + i*slot + (slot-barW)/2
		c.Bars = append(c.Bars, agingBar{
			X: x, Y: c.Base - h, W: barW, H: h, LabelX: x + barW/2, CountY: c.Base - h - 5,
			Label: AgeBuckets[i], Name: ageNames[i], Count: n,
		})
	}
	return c
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>Reconciliation report {{.Date}}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.meta { color: #555; margin-top: 0; }
.summary { display: flex; flex-wrap: wrap; gap: 0.75em; margin: 1em 0; padding: 0; }
.summary div { border: 1px solid #ccc; border-radius: 4px; padding: 0.5em 0.8em; min-width: 9em; }
.summary dt { color: #555; font-size: 0.85em; }
.summary dd { margin: 0; font-size: 1.3em; font-weight: 600; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f0f0f0; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
tfoot td { font-weight: 600; background: #f0f0f0; }
.scroll { overflow-x: auto; }
svg { max-width: 100%; height: auto; display: block; margin: 1em 0; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #222; }
svg .axis { stroke: #888; }
svg .grid { stroke: #ddd; }
svg .track { fill: #eee; }
svg .strong { font-weight: 600; }
svg text.on-dark { fill: #fff; }
svg text.halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.note { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<h1>Reconciliation report — {{.Date}}</h1>
<p class="meta">Facts up to the end of {{.Date}} (UTC). Generated {{.Generated}}.
Also as CSV:{{range $i, $f := .Files}}{{if $i}},{{end}} <a href="{{$f}}">{{$f}}</a>{{end}}.</p>

<dl class="summary">
{{- range .Summary}}
<div><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>
{{- end}}
</dl>

<h2 id="suppliers">Suppliers</h2>
{{with .Ack -}}
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="ack-title" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title id="ack-title">POs acknowledged on time, as a share of POs sent, per supplier, with p50 and p90 time to the first 855</title>
{{- $c := .}}
{{- range .Grid}}
<line class="grid" x1="{{.X}}" y1="{{$c.GridTop}}" x2="{{.X}}" y2="{{$c.GridBottom}}"/>
<text x="{{.X}}" y="{{.Y}}" text-anchor="middle">{{.Label}}</text>
{{- end}}
{{- range .Rows}}
<g>
<title>{{.Full}}: {{.Text}}</title>
<text x="8" y="{{.TextY}}"{{if .Total}} class="strong"{{end}}>{{.Label}}</text>
<rect class="track" x="{{$c.BarX}}" y="{{.Y}}" width="{{$c.BarMax}}" height="16"/>
{{- if .Width}}
<rect x="{{$c.BarX}}" y="{{.Y}}" width="{{.Width}}" height="16" fill="{{if .Total}}#333333{{else}}#0072B2{{end}}"/>
{{- end}}
<text x="{{$c.TextX}}" y="{{.TextY}}"{{if .Total}} class="strong"{{end}}>{{.Text}}</text>
</g>
{{- end}}
</svg>
{{- end}}

<div class="scroll">
<table>
<thead>
<tr><th rowspan="2">Supplier</th><th class="n" rowspan="2">POs sent</th><th class="n" rowspan="2">Acknowledged</th><th class="n" rowspan="2">On time</th><th class="n" rowspan="2">855 p50</th><th class="n" rowspan="2">855 p90</th><th class="n" rowspan="2">Ship notices</th><th class="n" rowspan="2">Accurate</th><th class="n" rowspan="2">Invoices</th><th class="n" rowspan="2">Matched</th><th colspan="4">Open exceptions by age</th><th class="n" rowspan="2">SLA breaches</th></tr>
<tr>{{range .AgingRows}}<th class="n">{{.Bucket}}</th>{{end}}</tr>
</thead>
<tbody>
{{- range .Suppliers}}
<tr><td>{{.Partner}}</td><td class="n">{{.POsSent}}</td><td class="n">{{.Acknowledged}}</td><td class="n">{{.OnTime}}</td><td class="n">{{.P50}}</td><td class="n">{{.P90}}</td><td class="n">{{.ShipNotices}}</td><td class="n">{{.ASNAccuracy}}</td><td class="n">{{.Invoices}}</td><td class="n">{{.InvoiceMatch}}</td>{{range .OpenByAge}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.SLABreaches}}</td></tr>
{{- end}}
</tbody>
{{- with .Total}}
<tfoot>
<tr><td>Total</td><td class="n">{{.POsSent}}</td><td class="n">{{.Acknowledged}}</td><td class="n">{{.OnTime}}</td><td class="n">{{.P50}}</td><td class="n">{{.P90}}</td><td class="n">{{.ShipNotices}}</td><td class="n">{{.ASNAccuracy}}</td><td class="n">{{.Invoices}}</td><td class="n">{{.InvoiceMatch}}</td>{{range .OpenByAge}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.SLABreaches}}</td></tr>
</tfoot>
{{- end}}
</table>
</div>
<p class="note">On time: POs whose first 855 arrived within the supplier's acknowledgement SLA, as a share of all POs sent.
855 p50/p90: nearest-rank percentiles of the time from our 850 to the first 855, over acknowledged POs.
Accurate: ship notices without an ASN exception. Matched: invoices without an invoice exception.
SLA breaches: missing 855, ASN or functional acknowledgement, whatever their status.</p>

<h2 id="exceptions">Exceptions by rule, last 14 days</h2>
{{with .Rules -}}
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="rule-title" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title id="rule-title">Exceptions created per day over the last 14 days, stacked by rule in legend order from the bottom</title>
{{- $c := .}}
{{- if .Stripes}}
<defs>
{{- range .Stripes}}
<pattern id="{{.ID}}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{{.Fill}}"/></pattern>
{{- end}}
</defs>
{{- end}}
{{- range .YTicks}}
<line class="grid" x1="{{$c.PlotLeft}}" y1="{{.Y}}" x2="{{$c.PlotRight}}" y2="{{.Y}}"/>
<text x="{{.X}}" y="{{.Y}}" dy="4" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range $b := .Days}}
<g>
<title>{{.Day}}: {{.Total}} exceptions</title>
{{- range .Segments}}
<rect x="{{$b.X}}" y="{{.Y}}" width="{{$b.W}}" height="{{.H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{- if .ShowCount}}
<text x="{{$b.LabelX}}" y="{{.CountY}}" text-anchor="middle" class="{{.Class}}">{{.Count}}</text>
{{- end}}
{{- end}}
{{- if .Total}}
<text x="{{.LabelX}}" y="{{.TotalY}}" text-anchor="middle" class="strong">{{.Total}}</text>
{{- end}}
<text x="{{.LabelX}}" y="{{.LabelY}}" text-anchor="middle">{{.Short}}</text>
</g>
{{- end}}
<line class="axis" x1="{{.PlotLeft}}" y1="{{.Base}}" x2="{{.PlotRight}}" y2="{{.Base}}"/>
{{- if .Empty}}
<text x="{{.PlotLeft}}" y="{{.PlotTop}}" dx="12" dy="20">No exceptions were created in these 14 days.</text>
{{- end}}
{{- range .Legend}}
<g>
<title>{{.Rule}}</title>
<rect x="{{.X}}" y="{{.Y}}" width="12" height="12" fill="{{.Fill}}" stroke="#888888" stroke-width="0.5"/>
<text x="{{.X}}" y="{{.Y}}" dx="18" dy="10">{{.Short}}</text>
</g>
{{- end}}
</svg>
{{- end}}

{{with .RuleTable -}}
{{if .Rules -}}
<div class="scroll">
<table>
<thead>
<tr><th>Day</th>{{range .Rules}}<th class="n">{{.}}</th>{{end}}<th class="n">Total</th></tr>
</thead>
<tbody>
{{- range .Rows}}
<tr><td>{{.Day}}</td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Total}}</td></tr>
{{- end}}
</tbody>
<tfoot>
<tr><td>Total</td>{{range .Totals}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Total}}</td></tr>
</tfoot>
</table>
</div>
{{- else -}}
<p>No exceptions were created in these 14 days.</p>
{{- end}}
{{- end}}

<h2 id="aging">Open exception aging</h2>
{{with .Aging -}}
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="aging-title" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title id="aging-title">Open exceptions at the end of the report day, by age</title>
{{- range .Bars}}
<g>
<title>{{.Name}}: {{.Count}} open</title>
<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#D55E00"/>
<text x="{{.LabelX}}" y="{{.CountY}}" text-anchor="middle" class="strong">{{.Count}}</text>
<text x="{{.LabelX}}" y="{{$.Aging.Base}}" dy="16" text-anchor="middle">{{.Label}}</text>
<text x="{{.LabelX}}" y="{{$.Aging.Base}}" dy="30" text-anchor="middle">{{.Name}}</text>
</g>
{{- end}}
<line class="axis" x1="0" y1="{{.Base}}" x2="{{.Width}}" y2="{{.Base}}"/>
</svg>
{{- end}}

<table>
<thead>
<tr><th>Age</th><th></th><th class="n">Open</th></tr>
</thead>
<tbody>
{{- range .AgingRows}}
<tr><td>{{.Bucket}}</td><td>{{.Name}}</td><td class="n">{{.Count}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="note">Ages are measured at the end of {{.Date}} (UTC). A bucket includes its lower bound: an exception exactly one day old is in 1–3 days.</p>
</body>
</html>
`))
