package nlu

import (
	"slices"
	"strings"
	"testing"
)

// The answer defects found when the bot was tried as a customer would, each with the reported message
// and further phrasings of the same need written for this test (none of them is a training phrase, so
// they show that the fix generalises). The flows side (which replies Step sends) is tested in
// flows/faq_defects_test.go.

type defectCase struct {
	text   string
	intent string
	topic  string   // "" when the intent has no topic
	also   []string // further topics, in order (nil: none)
}

func checkDefects(t *testing.T, cases []defectCase) {
	t.Helper()
	m := testModel(t)
	for _, c := range cases {
		got := m.Classify(c.text)
		if got.Intent != c.intent || got.Topic != c.topic || !slices.Equal(got.Also, c.also) {
			t.Errorf("Classify(%q) = %s %q %v (%.2f), want %s %q %v", c.text, got.Intent, got.Topic, got.Also,
				got.Confidence, c.intent, c.topic, c.also)
		}
	}
}

// Defect 1: vendors and contractors do receive data (item 6, and 2 (2)); item 3 ("no third party")
// read alone about them is misleading.
func TestDefectContractorsAreItem6(t *testing.T) {
	checkDefects(t, []defectCase{
		{"業者に私の情報を渡してるんですか", "faq.6", "6.contractors", nil},
		{"工事の業者さんにも私の電話番号が伝わっているの？", "faq.6", "6.contractors", nil},
		{"外注先に個人情報を教えていますか", "faq.6", "6.contractors", nil},
		{"下請けの会社に住所を渡すことはありますか", "faq.6", "6.contractors", nil},
		{"協力会社にも私の情報を渡しているのですか", "faq.6", "6.contractors", nil},
		{"委託先はどこの会社ですか", "faq.6", "6.contractors", nil},
		{"Do you give my data to your vendors?", "faq.6", "6.contractors", nil},
		{"Do contractors working for you get my personal information?", "faq.6", "6.contractors", nil},
		{"Is my information passed on to subcontractors?", "faq.6", "6.contractors", nil},
		{"Do you share my details with the companies you outsource to?", "faq.6", "6.contractors", nil},
		{"Does the delivery company get my phone number?", "faq.6", "6.contractors", nil},
		// Item 3 stays item 3: third parties in general, selling, brokers, the police.
		{"第三者に個人情報を渡すことはありますか", "faq.3", "3.third", nil},
		{"名簿業者に私の情報を売っていませんか", "faq.3", "3.third", nil},
		{"Do you sell my data to other companies?", "faq.3", "3.third", nil},
		{"警察に情報を渡すことはありますか", "faq.3", "3.police", nil},
		// A demand to stop sharing is still a request.
		{"私の情報を他の会社に渡さないで", "disclosure", "", nil},
		// Not about data at all.
		{"工事の業者はいつ来ますか", "none", "", nil},
	})
}

// Defect 2: "who is the manager?" is answered by 4.manager, whose answer no longer starts with はい
// (checked in package flows).
func TestDefectManagerWho(t *testing.T) {
	checkDefects(t, []defectCase{
		{"個人情報保護管理者って誰？", "faq.4", "4.manager", nil},
		{"個人情報の責任者はどなたですか", "faq.4", "4.manager", nil},
		{"管理者の名前を教えてください", "faq.4", "4.manager", nil},
		{"個人情報保護管理者とは何ですか", "faq.4", "4.manager", nil},
		{"Who is your data protection officer?", "faq.4", "4.manager", nil},
		{"Who is in charge of privacy at your company?", "faq.4", "4.manager", nil},
		{"Do you have a privacy manager?", "faq.4", "4.manager", nil},
		// A demand for the person in charge is a complaint or a request for staff, not item 4.
		{"対応が最悪。責任者を出してください", "complaint", "", nil},
	})
}

// Defect 3: what a customer posts on the site's forum or greeting cards is item 10 (3).
func TestDefectForum(t *testing.T) {
	checkDefects(t, []defectCase{
		{"サイトでフォーラムに書き込んだ内容はどうなる", "faq.10", "10.forum", nil},
		{"掲示板に投稿した自分の情報は公開されますか", "faq.10", "10.forum", nil},
		{"ホームページの会議室に書いたことは誰が見られるの", "faq.10", "10.forum", nil},
		{"グリーティングカードで送った内容はどう扱われますか", "faq.10", "10.forum", nil},
		{"サイトの掲示板に本名を書いてしまいました", "faq.10", "10.forum", nil},
		{"What happens to things I post on your website's forum?", "faq.10", "10.forum", nil},
		{"If I write a comment on your site, who can see it?", "faq.10", "10.forum", nil},
		{"Are greeting cards sent from your website private?", "faq.10", "10.forum", nil},
		{"Can other people see my review on your site?", "faq.10", "10.forum", nil},
	})
}

// Defect 4: two questions of one item in one message are both answered; a fee question has a topic.
func TestDefectSeveralTopics(t *testing.T) {
	checkDefects(t, []defectCase{
		{"開示ってどれくらいで…手数料は？", "faq.5", "5.fee", []string{"5.result"}},
		{"請求の結果はいつ来ますか。あと費用はかかる？", "faq.5", "5.fee", []string{"5.result"}},
		{"How long does a disclosure request take and is there a fee?", "faq.5", "5.fee", []string{"5.result"}},
		{"How long until I hear back? Also do I need to pay?", "faq.5", "5.fee", []string{"5.result"}},
		{"開示請求の手数料と、必要な書類を教えてください", "faq.5", "5.id", []string{"5.fee"}},
		{"What documents do I need and is there a charge?", "faq.5", "5.id", []string{"5.fee"}},
		{"Is there a fee, and can my husband apply for me?", "faq.5", "5.agent", []string{"5.fee"}},
		{"開示請求はどうやって出すの？期間は？", "faq.5", "5.result", []string{"5.how"}},
		// Three at most, the topic first.
		{"開示までの日数は？代理人でもいい？費用は？", "faq.5", "5.agent", []string{"5.fee", "5.result"}},
		// One question, one topic: the fee claims 「どれくらい」, the agent's answer covers ID documents.
		{"手数料はどれくらいかかりますか", "faq.5", "5.fee", nil},
		{"代理人が請求するときの必要書類は？", "faq.5", "5.agent", nil},
		{"開示請求の手数料はいくらですか", "faq.5", "5.fee", nil},
		{"開示請求って有料ですか", "faq.5", "5.fee", nil},
		{"削除の請求に費用はかかりますか", "faq.5", "5.fee", nil},
		{"Is there a fee for a disclosure request?", "faq.5", "5.fee", nil},
		{"How much does it cost to request my data?", "faq.5", "5.fee", nil},
		{"Is a data request free?", "faq.5", "5.fee", nil},
		// A narrative mention is no second question.
		{"先日御社の営業の方が来られて家の図面を渡しました。あの図面は何に使われるのでしょうか。", "faq.2", "2.purpose", []string{"2.marketing"}},
		// Prices of the company's products are no fee question.
		{"電気料金はいくらですか", "none", "", nil},
		{"点検は有料ですか", "none", "", nil},
	})
}

// Defect 5: questions about what one has stopped get the opt-out status (TopicOptStatus), and a real
// opt-out still starts the opt-out.
func TestDefectOptOutStatus(t *testing.T) {
	checkDefects(t, []defectCase{
		{"今って何を停止してるんだっけ？", "optout", TopicOptStatus, nil},
		{"配信停止の設定を確認したい", "optout", TopicOptStatus, nil},
		{"私は今どの連絡を止めていますか", "optout", TopicOptStatus, nil},
		{"前に止めたのって何だったっけ", "optout", TopicOptStatus, nil},
		{"配信の設定がどうなっているか教えて", "optout", TopicOptStatus, nil},
		{"配信停止の状況を教えて", "optout", TopicOptStatus, nil},
		{"今どの連絡が止まってるか知りたい", "optout", TopicOptStatus, nil},
		{"What have I opted out of?", "optout", TopicOptStatus, nil},
		{"Which messages have I stopped?", "optout", TopicOptStatus, nil},
		{"Am I still unsubscribed from your emails?", "optout", TopicOptStatus, nil},
		{"What are my current marketing preferences?", "optout", TopicOptStatus, nil},
		{"Show me my opt-out status", "optout", TopicOptStatus, nil},
		{"Have I unsubscribed from your calls?", "optout", TopicOptStatus, nil},
		// Read as opt-in by the model: a status question all the same.
		{"Check my unsubscribe settings", "optout", TopicOptStatus, nil},
		{"営業メールは今止まってますか", "optout", TopicOptStatus, nil},
		// Requests to stop something start the opt-out.
		{"DMを止めて", "optout", "", nil},
		{"配信設定でメールを止めてください", "optout", "", nil},
		{"メールの配信を止めてほしいです、今すぐ", "optout", "", nil},
		{"もう電話しないで。今すぐ止めて", "optout", "", nil},
		{"Please unsubscribe me from all emails, currently I get three a day", "optout", "", nil},
		{"Stop the emails which you send every day", "optout", "", nil},
	})
}

// Defect 6: refusing cookies is 10.disable (and item 10 even when the model hears item 5 in "refuse"),
// someone else making a request is 5.agent.
func TestDefectCookiesAndAgents(t *testing.T) {
	checkDefects(t, []defectCase{
		{"How do I refuse cookies?", "faq.10", "10.disable", nil},
		{"Can I stop your site from using cookies?", "faq.10", "10.disable", nil},
		{"Can I say no to cookies?", "faq.10", "10.disable", nil},
		{"Is it possible not to accept cookies on your website?", "faq.10", "10.disable", nil},
		{"I don't want your site to use cookies, what can I do?", "faq.10", "10.disable", nil},
		{"How can I reject cookies?", "faq.10", "10.disable", nil},
		{"Can I opt out of cookies?", "faq.10", "10.disable", nil},
		{"What if I don't accept cookies?", "faq.10", "10.disable", nil},
		{"クッキーを断るにはどうすればいいですか", "faq.10", "10.disable", nil},
		{"クッキーを使わないでほしいのですが", "faq.10", "10.disable", nil},
		{"クッキーを受け入れたくない場合は？", "faq.10", "10.disable", nil},
		{"Cookieを拒否する方法を教えて", "faq.10", "10.disable", nil},
		{"クッキーはオフにできますか", "faq.10", "10.disable", nil},
		{"Can someone else file the request for me?", "faq.5", "5.agent", nil},
		{"Can I make a request for my elderly mother?", "faq.5", "5.agent", nil},
		{"Can a lawyer ask on my behalf?", "faq.5", "5.agent", nil},
		{"Can a friend submit the request instead of me?", "faq.5", "5.agent", nil},
		{"Can my carer make the request?", "faq.5", "5.agent", nil},
		{"Can a solicitor make a disclosure request for a client?", "faq.5", "5.agent", nil},
		{"代わりに家族が請求してもいいですか", "faq.5", "5.agent", nil},
		{"弁護士に頼んで請求してもらえますか", "faq.5", "5.agent", nil},
		{"高齢の母の代わりに手続きできますか", "faq.5", "5.agent", nil},
		{"本人じゃなくても申請できる？", "faq.5", "5.agent", nil},
		{"ほかの人に請求をお願いすることはできますか", "faq.5", "5.agent", nil},
		{"委任状があれば友人でも請求できますか", "faq.5", "5.agent", nil},
		// Words that hid agents inside other words: "son" in "personal", 夫 in 大丈夫.
		{"How do I request my personal data?", "faq.5", "5.how", nil},
		{"What ID do I need to request my personal data", "faq.5", "5.id", nil},
		{"運転免許証のコピーで大丈夫ですか", "faq.5", "5.id", nil},
		// Cookies to eat stay off-topic.
		{"I love chocolate chip cookies", "none", "", nil},
		{"クッキーのレシピを教えて", "none", "", nil},
	})
}

// TestTopicForRules checks topicFor on its own: the order of the topics, the claimed words, the cap,
// and that the default never comes as a further topic.
func TestTopicForRules(t *testing.T) {
	for _, c := range []struct {
		intent, text string
		want         []string
	}{
		{"faq.5", "開示の結果はいつ？手数料は？", []string{"5.fee", "5.result"}},
		{"faq.5", "手数料はどれくらい", []string{"5.fee"}},           // claimed
		{"faq.5", "how much is the fee", []string{"5.fee"}}, // one topic once
		{"faq.5", "代理人の本人確認書類は？", []string{"5.agent"}},      // covered
		{"faq.5", "本人確認書類は？断られることは？", []string{"5.id", "5.refuse"}},
		{"faq.5", "代理人は？書類は？断られる？手数料は？いつ？", []string{"5.agent", "5.refuse", "5.fee"}}, // at most three
		{"faq.5", "教えてください", []string{"5.how"}},                                       // the default alone
		{"faq.10", "クッキーを拒否できますか。何に使うの？", []string{"10.disable", "10.use"}},
		{"faq.4", "個人情報保護管理者はいますか", []string{"4.manager"}}, // 保護 is the title's, not 4.safety's
		{"faq.7", "リンク先は？", []string{"7.links"}},
	} {
		if got := topicFor(c.intent, normalize(c.text)); !slices.Equal(got, c.want) {
			t.Errorf("topicFor(%s, %q) = %v, want %v", c.intent, c.text, got, c.want)
		}
	}
	for intent, rules := range topicRules {
		def := rules[len(rules)-1]
		if def.re != nil {
			t.Errorf("%s: the last rule must be the default (no pattern)", intent)
		}
		for i, r := range rules[:len(rules)-1] {
			if r.re == nil {
				t.Errorf("%s: rule %d (%s) has no pattern but is not the last", intent, i, r.topic)
			}
		}
	}
}

// TestAlsoOnlyForFAQ: further topics come only with a faq intent, and never repeat the topic.
func TestAlsoOnlyForFAQ(t *testing.T) {
	m := testModel(t)
	for _, text := range []string{"DMを止めて、あと手数料は？", "Delete my data and tell me the fee", "hello", "今何を停止してる？"} {
		r := m.Classify(text)
		if !strings.HasPrefix(r.Intent, "faq.") && r.Also != nil {
			t.Errorf("Classify(%q) = %+v: further topics on a non-faq intent", text, r)
		}
		if slices.Contains(r.Also, r.Topic) {
			t.Errorf("Classify(%q) = %+v: a further topic repeats the topic", text, r)
		}
	}
}

// TestTaughtTopicAndFurtherTopics: a phrase staff taught answers with its topic first; the other
// questions of the message are still answered after it, but the rules' choice staff replaced is not.
func TestTaughtTopicAndFurtherTopics(t *testing.T) {
	testModel(t) // the dictionary, once
	m, err := Train([]Example{
		{Intent: "faq.5", Topic: "5.result", Text: "開示の回答までどれくらいかかりますか"},
		{Intent: "faq.5", Topic: "5.how", Text: "家族の分もまとめて開示請求できますか"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text  string
		topic string
		also  []string
	}{
		{"開示の回答までどれくらいかかりますか", "5.result", nil},
		{"開示の回答までどれくらいかかりますか？手数料は？", "5.result", []string{"5.fee"}}, // the rules found both
		{"家族の分もまとめて開示請求できますか", "5.how", nil},                        // 5.agent replaced by staff
	} {
		r := m.Classify(c.text)
		if r.Intent != "faq.5" || r.Topic != c.topic || !slices.Equal(r.Also, c.also) {
			t.Errorf("Classify(%q) = %s %q %v, want faq.5 %q %v", c.text, r.Intent, r.Topic, r.Also, c.topic, c.also)
		}
	}
}
