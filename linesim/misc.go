package linesim

import (
	"encoding/json"
	"io"
	"net/http"
)

func (a *API) handleProfile(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	u := a.userLocked(r.PathValue("userId"))
	if u == nil || u.blocked {
		a.stats.NotFound++
		a.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	p := u.profile
	a.stats.Profiles++
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, p)
}

func (a *API) handleLoading(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ChatID         string `json:"chatId"`
		LoadingSeconds *int   `json:"loadingSeconds"`
	}
	if !a.decodeBody(w, r, &req) {
		return
	}
	secs := 20
	if req.LoadingSeconds != nil {
		secs = *req.LoadingSeconds
	}
	var details []ErrorDetail
	if req.ChatID == "" {
		details = append(details, ErrorDetail{Message: "May not be empty", Property: "chatId"})
	}
	if secs < 5 || secs > 60 || secs%5 != 0 {
		details = append(details, ErrorDetail{Message: "Must be a multiple of 5 between 5 and 60", Property: "loadingSeconds"})
	}
	if len(details) > 0 {
		a.badRequest(w, details)
		return
	}
	a.mu.Lock()
	a.loadings[req.ChatID] = append(a.loadings[req.ChatID], Loading{Seconds: secs, At: a.now()})
	a.stats.LoadingStarts++
	a.notifyActivityLocked(Activity{UserID: req.ChatID, Kind: "loading", Seconds: secs, At: a.now()})
	a.mu.Unlock()
	writeJSON(w, http.StatusAccepted, struct{}{})
}

func (a *API) handleMarkAsRead(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MarkAsReadToken string `json:"markAsReadToken"`
	}
	if !a.decodeBody(w, r, &req) {
		return
	}
	a.mu.Lock()
	t, ok := a.readTokens[req.MarkAsReadToken]
	if !ok {
		a.stats.BadRequests++
		a.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Invalid markAsReadToken")
		return
	}
	marks := a.reads[t.userID]
	seen := false
	for _, m := range marks {
		seen = seen || m.MessageID == t.messageID
	}
	if !seen {
		a.reads[t.userID] = append(marks, ReadMark{MessageID: t.messageID, At: a.now()})
		a.notifyActivityLocked(Activity{UserID: t.userID, Kind: "read", MessageID: t.messageID, At: a.now()})
	}
	a.stats.MarkAsReads++
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

// RichMenu is a rich menu created through the API.
type RichMenu struct {
	// ID is the richMenuId the API assigned.
	ID string
	// Body is the rich menu object as created (size, selected, name,
	// chatBarText, areas).
	Body json.RawMessage
	// ImageType and Image are the uploaded image, if any.
	ImageType string
	Image     []byte
}

// RichMenus returns the rich menus in creation order.
func (a *API) RichMenus() []RichMenu {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]RichMenu, 0, len(a.richOrder))
	for _, id := range a.richOrder {
		out = append(out, *a.richMenus[id])
	}
	return out
}

// DefaultRichMenu returns the ID of the default rich menu, or "".
func (a *API) DefaultRichMenu() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.defaultRich
}

func (a *API) handleRichMenuCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Size *struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"size"`
		Name        string            `json:"name"`
		ChatBarText string            `json:"chatBarText"`
		Areas       []json.RawMessage `json:"areas"`
	}
	var raw json.RawMessage
	if !a.decodeBody(w, r, &raw) {
		return
	}
	var details []ErrorDetail
	if json.Unmarshal(raw, &req) != nil {
		details = append(details, ErrorDetail{Message: "Must be a rich menu object"})
	} else {
		if req.Size == nil || req.Size.Width < 800 || req.Size.Width > 2500 || req.Size.Height < 250 {
			details = append(details, ErrorDetail{Message: "Invalid size", Property: "size"})
		}
		if req.Name == "" || len([]rune(req.Name)) > 300 {
			details = append(details, ErrorDetail{Message: "Length must be between 1 and 300", Property: "name"})
		}
		if req.ChatBarText == "" || len([]rune(req.ChatBarText)) > 14 {
			details = append(details, ErrorDetail{Message: "Length must be between 1 and 14", Property: "chatBarText"})
		}
		if len(req.Areas) > 20 {
			details = append(details, ErrorDetail{Message: "Size must be between 0 and 20", Property: "areas"})
		}
	}
	if len(details) > 0 {
		a.badRequest(w, details)
		return
	}
	id := "richmenu-" + randomHex(16)
	a.mu.Lock()
	a.richMenus[id] = &RichMenu{ID: id, Body: raw}
	a.richOrder = append(a.richOrder, id)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"richMenuId": id})
}

// richMenuJSON renders a stored menu the way GET /v2/bot/richmenu/{id} does.
func richMenuJSON(m *RichMenu) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(m.Body, &out)
	out["richMenuId"] = m.ID
	return out
}

func (a *API) richMenuNotFound(w http.ResponseWriter) {
	a.count(func(s *Stats) { s.NotFound++ })
	writeError(w, http.StatusNotFound, "Not found")
}

func (a *API) handleRichMenuList(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	list := make([]map[string]any, 0, len(a.richOrder))
	for _, id := range a.richOrder {
		list = append(list, richMenuJSON(a.richMenus[id]))
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"richmenus": list})
}

func (a *API) handleRichMenuGet(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	m, ok := a.richMenus[r.PathValue("id")]
	var body map[string]any
	if ok {
		body = richMenuJSON(m)
	}
	a.mu.Unlock()
	if !ok {
		a.richMenuNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (a *API) handleRichMenuDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a.mu.Lock()
	_, ok := a.richMenus[id]
	if ok {
		delete(a.richMenus, id)
		for i, x := range a.richOrder {
			if x == id {
				a.richOrder = append(a.richOrder[:i:i], a.richOrder[i+1:]...)
				break
			}
		}
		if a.defaultRich == id {
			a.defaultRich = ""
		}
	}
	a.mu.Unlock()
	if !ok {
		a.richMenuNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (a *API) handleRichMenuUpload(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if ct != "image/png" && ct != "image/jpeg" {
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "Content-Type must be image/png or image/jpeg")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(data) == 0 || len(data) > 1<<20 {
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "The image must be between 1 byte and 1 MB")
		return
	}
	a.mu.Lock()
	m, ok := a.richMenus[r.PathValue("id")]
	conflict := ok && m.Image != nil
	if ok && !conflict {
		m.ImageType, m.Image = ct, data
	}
	a.mu.Unlock()
	switch {
	case !ok:
		a.richMenuNotFound(w)
	case conflict:
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "An image has already been uploaded to the richmenu")
	default:
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func (a *API) handleRichMenuDownload(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	m, ok := a.richMenus[r.PathValue("id")]
	var ct string
	var img []byte
	if ok {
		ct, img = m.ImageType, m.Image
	}
	a.mu.Unlock()
	if img == nil {
		a.richMenuNotFound(w)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(img)
}

func (a *API) handleRichMenuSetDefault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a.mu.Lock()
	m, ok := a.richMenus[id]
	hasImage := ok && m.Image != nil
	if hasImage {
		a.defaultRich = id
	}
	a.mu.Unlock()
	switch {
	case !ok:
		a.richMenuNotFound(w)
	case !hasImage:
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "An image has not been uploaded to the richmenu")
	default:
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func (a *API) handleRichMenuGetDefault(w http.ResponseWriter, r *http.Request) {
	id := a.DefaultRichMenu()
	if id == "" {
		a.richMenuNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"richMenuId": id})
}

func (a *API) handleRichMenuClearDefault(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.defaultRich = ""
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}
