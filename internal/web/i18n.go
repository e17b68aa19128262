package web

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// The pages' languages: English, French and Polish, the languages of the
// product's source articles. Rule ids stay as they are in every language.
var (
	langCodes = []string{"en", "fr", "pl"}
	langNames = map[string]string{"en": "English", "fr": "Français", "pl": "Polski"}
	matcher   = language.NewMatcher([]language.Tag{language.English, language.French, language.Polish})
)

// langCookie keeps the language chosen with the switch (?lang=).
const langCookie = "ccbulk_lang"

// Localizer gives a page's text in one language.
type Localizer struct {
	Lang string
}

// T returns the text of key, formatted with args (fmt.Sprintf) when there
// are any; English when the language lacks it, the key itself when no
// language has it.
func (l *Localizer) T(key string, args ...any) string {
	msg, ok := catalogue[l.Lang][key]
	if !ok {
		if msg, ok = catalogue["en"][key]; !ok {
			msg = key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// localizer picks the request's language: ?lang= (remembered in a
// cookie), else the cookie, else the best match of Accept-Language.
func (s *server) localizer(w http.ResponseWriter, r *http.Request) *Localizer {
	if q := r.URL.Query().Get("lang"); q != "" {
		if _, ok := catalogue[q]; ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
			return &Localizer{Lang: q}
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogue[c.Value]; ok {
			return &Localizer{Lang: c.Value}
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	return &Localizer{Lang: langCodes[i]}
}
