package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// dashboardCSV answers /console/dashboard/<panel>.csv?by=…: the numbers of one chart or table, as the
// page shows them, for spreadsheets. UTF-8 with a byte order mark (Excel reads Japanese right), CRLF,
// headers in the staff member's language, dates in Japan (ISO), labels guarded against formulas.
// The file holds counts of aggregates only, so its download is not audited (the opt-out list's is:
// it holds people).
func (h *Console) dashboardCSV(c *gin.Context) {
	id, ok := strings.CutSuffix(c.Param("file"), ".csv")
	if !ok {
		h.deny(c, http.StatusNotFound, "console.error.not_found")
		return
	}
	w := h.words(c)
	p := dashPeriod(c)
	f, ok := h.dashFigures(c, p)
	if !ok {
		return
	}
	for _, pn := range w.dashPanels(f) {
		if pn.id != id {
			continue
		}
		name := "dashboard-" + strings.ReplaceAll(id, "_", "-") + "-" + string(p) + "-" + f.Now.In(tokyo).Format("20060102") + ".csv"
		c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", dashCSV(pn.table))
		return
	}
	h.deny(c, http.StatusNotFound, "console.error.not_found")
}

// dashCSV writes a table: BOM, header, rows, CRLF. Every cell is quoted; a label that starts like a
// formula gets the house guard (appendCell). Numbers are written as they are: counts and percentages
// never start with a sign.
func dashCSV(t *dashTable) []byte {
	b := []byte("\xEF\xBB\xBF")
	for _, row := range append([][]string{t.Head}, t.Rows...) {
		for i, v := range row {
			b = appendCell(b, v, i == 0)
		}
		b = append(b, '\r', '\n')
	}
	return b
}
