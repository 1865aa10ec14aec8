package flows

// Staff entries (the console's opt-out form) validate identifiers exactly as the chat flow does.

// NormalizeName validates a name as the opt-out flow does: full-width letters folded, spaces
// collapsed, 1–60 characters, not a number or an e-mail address.
func NormalizeName(s string) (string, bool) { return normalizeName(s) }

// NormalizePostalOrCustomer reads the optional extra identifier as the opt-out flow does: a postal
// code (700-0975, 〒7000975) or else a customer number (letters, digits and hyphens, 3–20 characters).
func NormalizePostalOrCustomer(s string) (postal, customer string, ok bool) {
	return normalizePostalOrCustomer(s)
}
