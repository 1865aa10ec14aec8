package flows

// faqTopics is the privacy desk's knowledge base: the 13 items of the privacy policy split into the
// topics customers ask about. The answer and title texts live in the catalogs (locales/faq.*.toml)
// under the IDs derived from the topic ID (see FAQTopic.TitleID); every answer ends with its citation.
// Exactly one topic per item is the Default: the answer given when the classifier names only the item.
var faqTopics = []FAQTopic{
	{ID: "1.def", Item: 1, Default: true, Related: []string{"1.combo", "2.collect"}},
	{ID: "1.combo", Item: 1, Related: []string{"1.def"}},

	{ID: "2.purpose", Item: 2, Default: true, Related: []string{"2.collect", "2.marketing", "2.stats", "2.newuse"}},
	{ID: "2.collect", Item: 2, Related: []string{"2.purpose", "1.def", "13.retention"}},
	{ID: "2.marketing", Item: 2, Related: []string{"2.purpose", "2.stats"}},
	{ID: "2.stats", Item: 2, Related: []string{"2.purpose", "10.use"}},
	{ID: "2.newuse", Item: 2, Related: []string{"2.purpose", "3.third"}},

	{ID: "3.third", Item: 3, Default: true, Related: []string{"3.police", "6.contractors", "5.kinds"}},
	{ID: "3.police", Item: 3, Related: []string{"3.third"}},

	{ID: "4.safety", Item: 4, Default: true, Related: []string{"4.manager", "6.contractors", "11.leak"}},
	{ID: "4.manager", Item: 4, Related: []string{"4.safety", "12.contact"}},

	{ID: "5.how", Item: 5, Default: true, Related: []string{"5.kinds", "5.id", "5.agent", "5.refuse", "5.result", "5.fee"}},
	{ID: "5.kinds", Item: 5, Related: []string{"5.how", "5.id"}},
	{ID: "5.id", Item: 5, Related: []string{"5.agent", "5.how"}},
	{ID: "5.agent", Item: 5, Related: []string{"5.id", "5.how"}},
	{ID: "5.refuse", Item: 5, Related: []string{"5.result", "5.how"}},
	{ID: "5.result", Item: 5, Related: []string{"5.fee", "5.refuse", "12.contact"}},
	{ID: "5.fee", Item: 5, Related: []string{"5.how", "5.result", "12.contact"}},

	{ID: "6.contractors", Item: 6, Default: true, Related: []string{"6.improve", "3.third", "4.safety"}},
	{ID: "6.improve", Item: 6, Related: []string{"6.contractors", "12.contact"}},

	{ID: "7.links", Item: 7, Default: true, Related: []string{"10.cookies"}},

	{ID: "8.laws", Item: 8, Default: true, Related: []string{"4.safety"}},

	{ID: "9.changes", Item: 9, Default: true, Related: []string{"12.contact"}},

	{ID: "10.cookies", Item: 10, Default: true, Related: []string{"10.disable", "10.use", "10.forum"}},
	{ID: "10.disable", Item: 10, Related: []string{"10.cookies", "10.use"}},
	{ID: "10.use", Item: 10, Related: []string{"10.cookies", "10.disable", "10.forum"}},
	{ID: "10.forum", Item: 10, Related: []string{"10.cookies", "12.contact"}},

	{ID: "11.leak", Item: 11, Default: true, Related: []string{"11.report", "4.safety"}},
	{ID: "11.report", Item: 11, Related: []string{"11.leak"}},

	{ID: "12.contact", Item: 12, Default: true, Related: []string{"5.how", "9.changes"}},

	{ID: "13.retention", Item: 13, Default: true, Related: []string{"5.kinds", "12.contact"}},
}
