// Package linesim simulates the LINE Platform as a bot sees it, in-process
// and on loopback only: nothing here talks to the real LINE Platform.
//
//   - API is a fake Messaging API serving the paths of both api.line.me and
//     api-data.line.me (reply with single-use expiring reply tokens, push with
//     X-Line-Retry-Key deduplication, profile, loading animation,
//     mark-as-read by token, message content, rich menus), with LINE's status
//     codes and error bodies, fault injection (SetFault; SetContentFault for
//     the content endpoint alone) and observation for tests.
//   - Sender builds webhook events exactly as LINE sends them (tokens issued
//     by the API) and POSTs them signed to the bot; image events store their
//     content in the API first (ImageEvent, ImageEventWithType).
//   - Chat is a LINE-like chat page with simulated customers, who type, tap
//     chips and buttons, block and unblock, and send images: any file picked
//     (up to ChatOptions.MaxImageBytes, 25 MiB by default, so a bot's own
//     limits can be tried) or the built-in SampleIDCard. Chat.SendImage does
//     the same from Go.
//   - RunLoad is the load tool behind "linesim load".
//
// Mounting: the API is an http.Handler; serve it on a loopback listener (or
// httptest.Server) and point the bot's SDK at it:
//
//	api := linesim.NewAPI(linesim.APIOptions{AccessToken: token, Prefix: "/linesim"})
//	mux.Handle("/linesim/", api)
//	bot, _ := messaging_api.NewMessagingApiAPI(token, messaging_api.WithEndpoint(base+"/linesim"))
//	blob, _ := messaging_api.NewMessagingApiBlobAPI(token, messaging_api.WithBlobEndpoint(base+"/linesim"))
//
// and the chat page next to it:
//
//	sender := &linesim.Sender{BotURL: base + "/callback", ChannelSecret: secret, Destination: linesim.NewBotUserID(), API: api}
//	mux.Handle("/sim/", linesim.NewChat(api, sender, linesim.ChatOptions{}))
package linesim
