package handlers

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/insight"
)

// Dashboard is the console's page of figures for support leads (admins and agents): questions and
// how the bot answered them, escalations and how fast staff answered them, satisfaction, opt-outs
// and personal-data requests, by day, week or month in Japan's calendar, each chart's numbers as CSV.
// Viewing it changes nothing, so nothing is audited; the CSV files hold counts only (no personal
// data), so their download is not audited either.
type Dashboard struct {
	Source DashboardSource
	// Hours are the business hours response and resolution times count (zero: wall time), and
	// HoursSpec their setting as written (BUSINESS_HOURS), shown on the page.
	Hours     bot.BusinessHours
	HoursSpec string
	// TTL is how long computed figures are served again (0: 30 s; negative: never).
	TTL time.Duration
	// Now is the dashboard's clock (nil: the console's).
	Now func() time.Time

	mu     sync.Mutex
	cache  map[insight.Period]dashCached
	flight singleflight.Group
}

type dashCached struct {
	f  insight.Figures
	at time.Time
}

const dashDefaultTTL = 30 * time.Second

// figures computes (or reuses) the figures of period p at now.
func (d *Dashboard) figures(ctx context.Context, p insight.Period, now time.Time) (insight.Figures, error) {
	ttl := d.TTL
	if ttl == 0 {
		ttl = dashDefaultTTL
	}
	d.mu.Lock()
	c, ok := d.cache[p]
	d.mu.Unlock()
	if ok && ttl > 0 && now.Sub(c.at) < ttl && !now.Before(c.at) {
		return c.f, nil
	}
	// Staff opening the page together share one computation (it reads every record of the period).
	v, err, _ := d.flight.Do(string(p), func() (any, error) {
		w := insight.NewWindow(p, now, tokyo, 0)
		recs, err := d.Source.DashboardRecords(ctx, w.From(), w.To())
		if err != nil {
			return insight.Figures{}, err
		}
		f := insight.Compute(recs, w, now, d.Hours)
		d.mu.Lock()
		if d.cache == nil {
			d.cache = map[insight.Period]dashCached{}
		}
		d.cache[p] = dashCached{f: f, at: now}
		d.mu.Unlock()
		return f, nil
	})
	if err != nil {
		return insight.Figures{}, err
	}
	return v.(insight.Figures), nil
}

// dashNow is the time the dashboard counts at.
func (h *Console) dashNow() time.Time {
	if h.Dashboard.Now != nil {
		return h.Dashboard.Now()
	}
	return h.Now()
}

// registerDashboard mounts the dashboard and its CSV files for admins and agents (503 when the
// deployment has no source of records).
func (h *Console) registerDashboard(authed *gin.RouterGroup) {
	g := authed.Group("/dashboard", h.requireRole(account.RoleAdmin, account.RoleAgent),
		h.needs(h.Dashboard != nil && h.Dashboard.Source != nil))
	g.GET("", h.dashboardPage)
	g.GET("/:file", h.dashboardCSV)
}

// dashPeriod reads ?by= (day, week or month; week when absent or unknown).
func dashPeriod(c *gin.Context) insight.Period {
	if p, ok := insight.ParsePeriod(c.Query("by")); ok {
		return p
	}
	return insight.ByWeek
}

// dashPeriodIDs name the periods in the selector.
var dashPeriodIDs = map[insight.Period]string{
	insight.ByDay:   "console.dashboard.by_day",
	insight.ByWeek:  "console.dashboard.by_week",
	insight.ByMonth: "console.dashboard.by_month",
}

type dashPeriodLink struct {
	Code, Name string
	Current    bool
}

// dashSection is a heading with its charts and tables.
type dashSection struct {
	ID, Title string
	Panels    []dashPanelView
}

// dashPanelView is one chart (or table) as the page shows it; Attention is the list of requests due
// soon or overdue (the page's data), which has no CSV file.
type dashPanelView struct {
	ID, Title, Note, CSV string
	SVG                  template.HTML
	Table                *dashTable
	Attention            bool
}

// dashFigures are the figures of period p for the page or a CSV; false when the records could not be
// read (the error is answered).
func (h *Console) dashFigures(c *gin.Context, p insight.Period) (insight.Figures, bool) {
	f, err := h.Dashboard.figures(c.Request.Context(), p, h.dashNow())
	if err != nil {
		internalError(c, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "dashboard records not read", Err: err})
		return f, false
	}
	return f, true
}

func (h *Console) dashboardPage(c *gin.Context) {
	w := h.words(c)
	p := dashPeriod(c)
	f, ok := h.dashFigures(c, p)
	if !ok {
		return
	}
	var periods []dashPeriodLink
	for _, x := range insight.Periods() {
		periods = append(periods, dashPeriodLink{Code: string(x), Name: w.T(dashPeriodIDs[x]), Current: x == p})
	}
	panels := w.dashPanels(f)
	var sections []dashSection
	for _, s := range dashSections {
		sec := dashSection{ID: s.id, Title: w.T(s.title)}
		for _, id := range s.panels {
			if id == "attention" {
				sec.Panels = append(sec.Panels, dashPanelView{ID: id, Title: w.T("console.dashboard.attention_title"),
					Note: w.T("console.dashboard.attention_note"), Attention: true})
				continue
			}
			for _, pn := range panels {
				if pn.id != id {
					continue
				}
				v := dashPanelView{ID: pn.id, Title: pn.title, Note: pn.note, CSV: "/console/dashboard/" + pn.id + ".csv?by=" + string(p)}
				if pn.chart != nil {
					v.SVG = template.HTML(pn.chart.SVG()) // built by package chart, every text escaped
				} else {
					v.Table = pn.table
				}
				sec.Panels = append(sec.Panels, v)
			}
		}
		sections = append(sections, sec)
	}
	last := f.Window.To().Add(-time.Nanosecond)
	data := gin.H{"Title": w.T("console.dashboard.title"), "Periods": periods, "Period": string(p),
		"Range":    w.T("console.dashboard.range", "From", w.dashDate(f.Window.From()), "To", w.dashDate(last)),
		"Computed": w.T("console.dashboard.computed", "Time", clock(f.Now)),
		"Tiles":    w.dashTiles(f), "Sections": sections, "Attention": w.dashAttention(f, h.me(c).Role == account.RoleAdmin)}
	if spec := strings.TrimSpace(h.Dashboard.HoursSpec); spec != "" {
		data["HoursNote"] = w.T("console.dashboard.hours_business", "Spec", spec)
	} else {
		data["HoursNote"] = w.T("console.dashboard.hours_wall")
	}
	h.render(c, "dashboard", data)
}

// dashSections group the panels under their headings, in the page's order.
var dashSections = []struct {
	id, title string
	panels    []string
}{
	{"questions", "console.dashboard.sec_questions", []string{"questions", "unanswered", "helped", "topics"}},
	{"escalations", "console.dashboard.sec_escalations", []string{"escalations", "satisfaction", "first_response", "resolution"}},
	{"consent", "console.dashboard.sec_consent", []string{"optouts", "optins"}},
	{"requests", "console.dashboard.sec_requests", []string{"requests", "attention", "request_status"}},
}
