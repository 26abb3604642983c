package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"time"
)

// supplierColumns is the header of suppliers-DATE.csv.
var supplierColumns = []string{
	"partner", "pos_sent", "acknowledged", "acked_on_time",
	"ack_latency_p50_seconds", "ack_latency_p90_seconds",
	"ship_notices", "ship_notices_accurate", "invoices", "invoices_matched",
	"open_lt_1d", "open_1_3d", "open_3_7d", "open_gt_7d", "sla_breaches",
}

// suppliersCSV renders one row per supplier and a "total" row. Latencies
// are whole seconds, left empty when no PO was acknowledged.
func suppliersCSV(r Report) ([]byte, error) {
	records := [][]string{supplierColumns}
	for _, s := range r.Suppliers {
		records = append(records, supplierRecord(s))
	}
	records = append(records, supplierRecord(r.Totals))
	return encodeCSV(records)
}

func supplierRecord(s SupplierRow) []string {
	itoa := strconv.Itoa
	return []string{
		s.Partner, itoa(s.POsSent), itoa(s.Acknowledged), itoa(s.AckedOnTime),
		seconds(s.AckLatencyP50, s.Acknowledged), seconds(s.AckLatencyP90, s.Acknowledged),
		itoa(s.ShipNotices), itoa(s.ShipNoticesAccurate), itoa(s.Invoices), itoa(s.InvoicesMatched),
		itoa(s.OpenByAge[0]), itoa(s.OpenByAge[1]), itoa(s.OpenByAge[2]), itoa(s.OpenByAge[3]),
		itoa(s.SLABreaches),
	}
}

func seconds(d time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// exceptionsCSV renders ExceptionsByRule long-form: day,rule,count.
func exceptionsCSV(r Report) ([]byte, error) {
	records := [][]string{{"day", "rule", "count"}}
	for _, rd := range r.ExceptionsByRule {
		records = append(records, []string{rd.Day, rd.Rule, strconv.Itoa(rd.Count)})
	}
	return encodeCSV(records)
}

// agingCSV renders Aging as bucket,count.
func agingCSV(r Report) ([]byte, error) {
	records := [][]string{{"bucket", "count"}}
	for i, label := range AgeBuckets {
		records = append(records, []string{label, strconv.Itoa(r.Aging[i])})
	}
	return encodeCSV(records)
}

func encodeCSV(records [][]string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(records); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
