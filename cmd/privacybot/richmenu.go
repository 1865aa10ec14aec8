package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/enemane/privacybot/flows"
)

// The rich menu of the account (issue 4): four tiles for what the desk does and a language switch in
// the header. richmenu/richmenu.html is the design of the image (rendered to richmenu/richmenu.png);
// the bounds below follow its layout: a 236 px header, then a 2×2 grid of 1250×725 tiles.
//
//	privacybot richmenu [--dry-run] [--image FILE]
//
// creates the menu, uploads the image, makes it the default for all users and deletes the menus an
// earlier run created (recognised by name), so running it again replaces the menu. It prints the new
// richMenuId as its last line.

//go:embed richmenu/richmenu.png
var richMenuImage []byte

const (
	// richMenuNamePrefix marks the menus this command owns: every menu whose name starts with it is
	// replaced by the next run. Other menus of the channel (a campaign's, say) are left alone.
	richMenuNamePrefix = "privacybot/"
	richMenuName       = richMenuNamePrefix + "main"
	richMenuWidth      = 2500
	richMenuHeight     = 1686
	richMenuHeader     = 236                                   // the header band with the language switch
	richMenuTileW      = richMenuWidth / 2                     // 1250
	richMenuTileH      = (richMenuHeight - richMenuHeader) / 2 // 725

	// richMenuImageMax is LINE's limit on the image file.
	richMenuImageMax = 1 << 20

	// Postback data the flows answer (flows.Step): the opt-out flow, a person, the language switch.
	// The 開示等のご請求 tile starts the request flow with flows.RequestStartPostback ("do=request").
	postbackOptOut = "do=optout"
	postbackHuman  = "do=human"
	postbackLangJa = "do=lang&l=ja"
	postbackLangEn = "do=lang&l=en"
)

// richMenuArea is one tappable area with a name for tests and the dry run.
type richMenuArea struct {
	Key    string
	Bounds messaging_api.RichMenuBounds
	Action messaging_api.ActionInterface
}

func tile(col, row int) messaging_api.RichMenuBounds {
	return messaging_api.RichMenuBounds{X: int64(col * richMenuTileW), Y: int64(richMenuHeader + row*richMenuTileH),
		Width: richMenuTileW, Height: richMenuTileH}
}

// richMenuAreas lists the areas of the menu. The labels are read out by screen readers (≤ 20
// characters); displayText is what the chat shows as the customer's message.
func richMenuAreas() []richMenuArea {
	return []richMenuArea{
		{Key: "policy", Bounds: tile(0, 0), Action: &messaging_api.PostbackAction{
			Label: "ポリシーについて", Data: flows.FAQPostback(flows.FAQMenuTopic), DisplayText: "ポリシーについて"}},
		{Key: "optout", Bounds: tile(1, 0), Action: &messaging_api.PostbackAction{
			Label: "配信停止（営業連絡の停止）", Data: postbackOptOut, DisplayText: "配信停止（営業連絡の停止）"}},
		{Key: "disclosure", Bounds: tile(0, 1), Action: &messaging_api.PostbackAction{
			Label: "開示等のご請求", Data: flows.RequestStartPostback, DisplayText: "開示等のご請求"}},
		{Key: "staff", Bounds: tile(1, 1), Action: &messaging_api.PostbackAction{
			Label: "担当者と話す", Data: postbackHuman, DisplayText: "担当者と話したい"}},
		// The header's switch: the pill spans x 1680–2440; the areas reach to the header's edges.
		{Key: "ja", Bounds: messaging_api.RichMenuBounds{X: 1660, Y: 0, Width: 400, Height: richMenuHeader},
			Action: &messaging_api.PostbackAction{Label: "日本語", Data: postbackLangJa, DisplayText: "日本語"}},
		{Key: "en", Bounds: messaging_api.RichMenuBounds{X: 2060, Y: 0, Width: 440, Height: richMenuHeader},
			Action: &messaging_api.PostbackAction{Label: "English", Data: postbackLangEn, DisplayText: "English"}},
	}
}

// richMenuRequest is the menu as sent to LINE.
func richMenuRequest() *messaging_api.RichMenuRequest {
	req := &messaging_api.RichMenuRequest{
		Size:        &messaging_api.RichMenuSize{Width: richMenuWidth, Height: richMenuHeight},
		Selected:    true, // open when the chat opens: it is the desk's main way in
		Name:        richMenuName,
		ChatBarText: "メニュー / Menu",
	}
	for _, a := range richMenuAreas() {
		b := a.Bounds
		req.Areas = append(req.Areas, messaging_api.RichMenuArea{Bounds: &b, Action: a.Action})
	}
	return req
}

// validateRichMenu checks a menu against LINE's limits before anything is sent.
func validateRichMenu(m *messaging_api.RichMenuRequest) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.Size == nil {
		return errors.New("rich menu: no size")
	}
	w, h := m.Size.Width, m.Size.Height
	if w < 800 || w > 2500 || h < 250 || float64(w)/float64(h) < 1.45 {
		bad("size %d×%d: the width must be 800–2500, the height at least 250, width/height at least 1.45", w, h)
	}
	if n := utf8.RuneCountInString(m.Name); n == 0 || n > 300 {
		bad("name: %d characters (1–300)", n)
	}
	if n := utf8.RuneCountInString(m.ChatBarText); n == 0 || n > 14 {
		bad("chatBarText %q: %d characters (1–14)", m.ChatBarText, n)
	}
	if n := len(m.Areas); n == 0 || n > 20 {
		bad("%d areas (1–20)", n)
	}
	for i, a := range m.Areas {
		if a.Bounds == nil {
			bad("area %d: no bounds", i)
			continue
		}
		b := *a.Bounds
		if b.X < 0 || b.Y < 0 || b.Width <= 0 || b.Height <= 0 || b.X+b.Width > w || b.Y+b.Height > h {
			bad("area %d: bounds %+v outside the %d×%d menu", i, b, w, h)
		}
		for j, o := range m.Areas[:i] {
			if o.Bounds != nil && overlap(b, *o.Bounds) {
				bad("area %d overlaps area %d", i, j)
			}
		}
		if err := validateAction(a.Action); err != nil {
			bad("area %d: %v", i, err)
		}
	}
	return errors.Join(errs...)
}

func overlap(a, b messaging_api.RichMenuBounds) bool {
	return a.X < b.X+b.Width && b.X < a.X+a.Width && a.Y < b.Y+b.Height && b.Y < a.Y+a.Height
}

func validateAction(a messaging_api.ActionInterface) error {
	within := func(field, s string, lo, hi int) error {
		if n := utf8.RuneCountInString(s); n < lo || n > hi {
			return fmt.Errorf("%s %q: %d characters (%d–%d)", field, s, n, lo, hi)
		}
		return nil
	}
	switch a := a.(type) {
	case *messaging_api.PostbackAction:
		return errors.Join(within("label", a.Label, 0, 20), within("data", a.Data, 1, 300),
			within("displayText", a.DisplayText, 0, 300))
	case *messaging_api.MessageAction:
		return errors.Join(within("label", a.Label, 0, 20), within("text", a.Text, 1, 300))
	case nil:
		return errors.New("no action")
	default:
		return fmt.Errorf("action %T is not used by this menu", a)
	}
}

// checkRichMenuImage checks an image against LINE's limits and the menu's size, and returns its
// content type.
func checkRichMenuImage(img []byte, size *messaging_api.RichMenuSize) (string, error) {
	if len(img) == 0 {
		return "", errors.New("image: empty")
	}
	if len(img) > richMenuImageMax {
		return "", fmt.Errorf("image: %d bytes, LINE accepts at most %d (1 MB)", len(img), richMenuImageMax)
	}
	var (
		cfg image.Config
		err error
		ct  string
	)
	switch {
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err = png.DecodeConfig(bytes.NewReader(img))
		ct = "image/png"
	case bytes.HasPrefix(img, []byte{0xff, 0xd8}):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(img))
		ct = "image/jpeg"
	default:
		return "", errors.New("image: not a PNG or JPEG file")
	}
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	if int64(cfg.Width) != size.Width || int64(cfg.Height) != size.Height {
		return "", fmt.Errorf("image: %d×%d, the menu declares %d×%d", cfg.Width, cfg.Height, size.Width, size.Height)
	}
	return ct, nil
}

// richMenuClient talks to the Messaging API (api) and its data endpoint (blob) for one command run.
type richMenuClient struct {
	api  *messaging_api.MessagingApiAPI
	blob *messaging_api.MessagingApiBlobAPI
}

func newRichMenuClient(ctx context.Context, token, endpoint, dataEndpoint string, hc *http.Client) (*richMenuClient, error) {
	api, err := messaging_api.NewMessagingApiAPI(token, messaging_api.WithEndpoint(endpoint), messaging_api.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	blob, err := messaging_api.NewMessagingApiBlobAPI(token, messaging_api.WithBlobEndpoint(dataEndpoint),
		messaging_api.WithBlobHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	return &richMenuClient{api: api.WithContext(ctx), blob: blob.WithContext(ctx)}, nil
}

// install creates the menu with its image, makes it the default and deletes the menus of earlier
// runs. The new menu is the default before the old ones go, so the chat is never without a menu; a
// menu that fails half-way is deleted again.
func (c *richMenuClient) install(req *messaging_api.RichMenuRequest, img []byte, contentType string, log io.Writer) (string, error) {
	created, err := c.api.CreateRichMenu(req)
	if err != nil {
		return "", fmt.Errorf("create rich menu: %w", err)
	}
	id := created.RichMenuId
	fmt.Fprintf(log, "created rich menu %s (%q)\n", id, req.Name)
	undo := func(step string, err error) (string, error) {
		if _, derr := c.api.DeleteRichMenu(id); derr != nil {
			fmt.Fprintf(log, "could not delete the unfinished menu %s: %v\n", id, derr)
		}
		return "", fmt.Errorf("%s: %w", step, err)
	}
	if _, err := c.blob.SetRichMenuImage(id, contentType, bytes.NewReader(img)); err != nil {
		return undo("upload rich menu image", err)
	}
	fmt.Fprintf(log, "uploaded the image (%s, %d bytes)\n", contentType, len(img))
	if _, err := c.api.SetDefaultRichMenu(id); err != nil {
		return undo("set default rich menu", err)
	}
	fmt.Fprintln(log, "set as the default rich menu for all users")
	list, err := c.api.GetRichMenuList()
	if err != nil {
		return id, fmt.Errorf("list rich menus (the new menu %s is in place; older ones were not deleted): %w", id, err)
	}
	for _, m := range list.Richmenus {
		if m.RichMenuId == id || !strings.HasPrefix(m.Name, richMenuNamePrefix) {
			continue
		}
		if _, err := c.api.DeleteRichMenu(m.RichMenuId); err != nil {
			return id, fmt.Errorf("delete the earlier menu %s (the new menu %s is in place): %w", m.RichMenuId, id, err)
		}
		fmt.Fprintf(log, "deleted the earlier menu %s (%q)\n", m.RichMenuId, m.Name)
	}
	return id, nil
}

// runRichMenu is `privacybot richmenu`.
func runRichMenu(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("richmenu", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dryRun := fs.Bool("dry-run", false, "validate the menu and the image and print the menu; call nothing")
	imagePath := fs.String("image", "", "a PNG or JPEG of 2500×1686 to use instead of the built-in image")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: privacybot richmenu [--dry-run] [--image FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("richmenu: unexpected argument %q", fs.Arg(0))
	}
	img := richMenuImage
	if *imagePath != "" {
		b, err := os.ReadFile(*imagePath)
		if err != nil {
			return err
		}
		img = b
	}
	req := richMenuRequest()
	if err := validateRichMenu(req); err != nil {
		return fmt.Errorf("rich menu: %w", err)
	}
	ct, err := checkRichMenuImage(img, req.Size)
	if err != nil {
		return err
	}
	if *dryRun {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(req); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "image: %s, %d×%d, %d bytes\nthe menu and the image are valid; nothing was sent (dry run)\n",
			ct, req.Size.Width, req.Size.Height, len(img))
		return nil
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.LocalMode {
		return errors.New("richmenu talks to a LINE channel: set LINE_CHANNEL_ACCESS_TOKEN and LINE_CHANNEL_SECRET " +
			"(and LINE_API_BASE_URL / LINE_API_DATA_BASE_URL for another endpoint)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := newRichMenuClient(ctx, cfg.ChannelToken, cfg.APIBaseURL, cfg.APIDataBaseURL, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return err
	}
	id, err := c.install(req, img, ct, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	return nil
}
