package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardInBrowser opens the dashboard from the admin's navigation in chromium, in Japanese,
// by month, week and day: every chart is drawn (under the console's content security policy), no text of a chart
// runs out of its drawing or over its neighbour, the period selector works, and a full-page
// screenshot of the days goes to /tmp/dashboard-ja.png (of the months to /tmp/dashboard-ja-month.png).
func TestDashboardInBrowser(t *testing.T) {
	h := newDashboardConsole(t, seedDashboard)
	page, closeBrowser := openPage(t, 1366, 900, 90*time.Second)
	defer closeBrowser()
	run, eval, shot := page.run, page.eval, page.shot
	run("log in", consoleLogin(h.bot.URL, "admin@x.example")...)
	run("open the dashboard", chromedp.Click(chromedp.CSS(`nav a[href="/console/dashboard"]`)), chromedp.WaitVisible(chromedp.CSS(`.dash-tiles`)))
	if got := eval(`document.querySelector('.dash-periods .current').textContent`); got != "週別" {
		t.Errorf("default period %q", got)
	}
	// Each period: every chart drawn at a readable size, with marks in it; no text of a chart leaves
	// its drawing, and no two texts of one part (legend, axes) overlap.
	for _, by := range []string{"month", "week", "day"} {
		run("by "+by, chromedp.Click(chromedp.CSS(`.dash-periods a[data-by=`+by+`]`)), chromedp.WaitVisible(chromedp.CSS(`.dash-periods a.current[data-by=`+by+`]`)))
		if got := eval(`[...document.querySelectorAll('.dash-chart svg')].map(s => {
			const r = s.getBoundingClientRect();
			return Math.round(r.width) >= 400 && r.height > 150 && s.querySelectorAll('rect, circle, path').length > 1 ? 'ok' : 'bad ' + s.getAttribute('aria-label') + ' ' + r.width;
		}).join(',')`); got != strings.TrimSuffix(strings.Repeat("ok,", 10), ",") {
			t.Errorf("%s: charts drawn: %s", by, got)
		}
		problems := eval(`(() => {
			const out = [];
			for (const s of document.querySelectorAll('.dash-chart svg')) {
				const vb = s.viewBox.baseVal, name = s.getAttribute('aria-label');
				const boxes = [...s.querySelectorAll('text')].map(t => ({t: t.textContent, b: t.getBBox(), g: t.parentNode.getAttribute('class')}));
				for (const x of boxes) {
					if (x.b.x < -0.5 || x.b.y < -0.5 || x.b.x + x.b.width > vb.width + 0.5 || x.b.y + x.b.height > vb.height + 0.5) out.push(name + ': "' + x.t + '" outside');
				}
				for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
					const a = boxes[i].b, b = boxes[j].b;
					if (boxes[i].g !== boxes[j].g) continue;
					if (a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5) out.push(name + ': "' + boxes[i].t + '" over "' + boxes[j].t + '"');
				}
			}
			return out.join('\n');
		})()`)
		if problems != "" {
			t.Errorf("%s: chart texts:\n%s", by, problems)
		}
		if by == "month" {
			shot("/tmp/dashboard-ja-month.png")
		}
	}
	// The presentation attributes apply: the unanswered group is drawn red.
	if got := eval(`getComputedStyle(document.querySelector('#panel-questions svg .legend rect:last-of-type')).fill`); got != "rgb(217, 45, 32)" {
		t.Errorf("the legend's last swatch is %s", got)
	}
	shot("/tmp/dashboard-ja.png")
}
