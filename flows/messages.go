package flows

// Catalog message IDs used by the flows in this package (the knowledge base lists its own with
// FAQMessageIDs). Every ID must exist in every catalog language; locales' tests check it.
const (
	msgGreeting          = "greeting.follow"
	msgWelcomeBack       = "greeting.unblocked"
	msgMenu              = "menu.main"
	msgMediaUnanswered   = "media.unsupported"
	msgLangSwitched      = "lang.switched"
	msgGeneric           = "error.generic"
	msgCannotAnswer      = "miss.first"
	msgCannotAnswerAgain = "miss.again"

	lblTopics   = "label.topics"
	lblEnglish  = "label.english"
	lblJapanese = "label.japanese"
	lblMenu     = "label.menu"
)

// MessageIDs lists the catalog IDs this package's flows use directly.
func MessageIDs() []string {
	return []string{msgGreeting, msgWelcomeBack, msgMenu, msgMediaUnanswered, msgLangSwitched, msgGeneric,
		msgCannotAnswer, msgCannotAnswerAgain,
		lblTopics, lblEnglish, lblJapanese, lblMenu}
}
