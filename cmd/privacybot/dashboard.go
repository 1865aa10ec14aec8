package main

import (
	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// wireDashboard gives the console its dashboard: the questions and the escalations from the store
// (the questions by a range of _id), the consent history and the requests from their services'
// memory, response and resolution times counted in business hours (BUSINESS_HOURS, HOLIDAYS, TZ).
func wireDashboard(cfg config, console *handlers.Console, st *store.Store, consents *consent.Consents, requests *request.Service, hours bot.BusinessHours) {
	console.Dashboard = &handlers.Dashboard{
		Source: handlers.DashboardStores{Questions: st, Escalations: st, Consents: consents, Requests: requests},
		Hours:  hours, HoursSpec: cfg.BusinessHours,
	}
}
