package main

import (
	"fmt"
	"time"

	"github.com/enemane/privacybot/bot"
)

// businessHours reads BUSINESS_HOURS, HOLIDAYS and TZ: when staff answer requests for a person.
func businessHours(cfg config) (bot.BusinessHours, error) {
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return bot.BusinessHours{}, fmt.Errorf("TZ: %w", err)
	}
	hours, err := bot.ParseBusinessHours(cfg.BusinessHours, loc, cfg.Holidays)
	if err != nil {
		return bot.BusinessHours{}, fmt.Errorf("BUSINESS_HOURS/HOLIDAYS: %w", err)
	}
	return hours, nil
}
