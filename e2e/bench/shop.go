package bench

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/rules"
)

// Session is one row of online_shoppers_intention.csv: what a visitor did in one visit, and whether it
// ended in a purchase.
type Session struct {
	Views     [3]float64 // administrative, informational, product pages
	Seconds   [3]float64
	PageValue float64 // the shop's value of the pages seen: the site knows it and passes it as an attribute
	Returning bool
	Bought    bool
}

// PageKinds are the page categories a session's views are replayed as.
var PageKinds = [3]string{"admin", "info", "product"}

// LoadSessions reads the shop's sessions.
func LoadSessions(path string) ([]Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	var out []Session
	for line, r := range rows[1:] {
		var v [7]float64
		for i, col := range []int{0, 2, 4, 1, 3, 5, 8} {
			if v[i], err = strconv.ParseFloat(r[col], 64); err != nil {
				return nil, errors.New("bench: line " + strconv.Itoa(line+2) + ": " + err.Error())
			}
		}
		out = append(out, Session{Views: [3]float64{v[0], v[1], v[2]}, Seconds: [3]float64{v[3], v[4], v[5]},
			PageValue: v[6], Returning: r[15] == "Returning_Visitor", Bought: r[17] == "TRUE"})
	}
	return out, nil
}

// Features are a conversion model's inputs as the engine sees them: behaviour it kept, transformed.
var Features = []rules.Feature{
	{Attr: "views.admin", Transform: rules.TransformLog1p}, {Attr: "views.info", Transform: rules.TransformLog1p},
	{Attr: "views.product", Transform: rules.TransformLog1p}, {Attr: "time.admin", Transform: rules.TransformLog1p},
	{Attr: "time.info", Transform: rules.TransformLog1p}, {Attr: "time.product", Transform: rules.TransformLog1p},
	{Attr: "attr.page_value", Transform: rules.TransformLog1p}, {Attr: "attr.returning", Transform: rules.TransformNone},
}

// X is a session's feature vector, computed natively, in the order of Features.
func (s Session) X() []float64 {
	ret := 0.0
	if s.Returning {
		ret = 1
	}
	return []float64{math.Log1p(s.Views[0]), math.Log1p(s.Views[1]), math.Log1p(s.Views[2]),
		math.Log1p(s.Seconds[0]), math.Log1p(s.Seconds[1]), math.Log1p(s.Seconds[2]), math.Log1p(s.PageValue), ret}
}

// ShopRules is a rule set holding the model "buy" with the given weights (one per Feature).
func ShopRules(bias float64, weights []float64) *rules.RuleSet {
	m := rules.Model{ID: "buy", Bias: bias}
	for i, f := range Features {
		f.Weight = weights[i]
		m.Features = append(m.Features, f)
	}
	return &rules.RuleSet{Models: []rules.Model{m}, Goals: []rules.Goal{{ID: "purchase"}},
		Segments: []rules.Segment{{ID: "hot", When: &rules.Cond{Attr: "model.buy", Op: "gte", Value: 0.7}}}}
}

// Replay feeds one session to an engine as the page views and visible time a browser would report, and
// returns the model's probability as the engine exports it.
func Replay(e Engine, s Session, now int64) (float64, error) {
	if err := e.Forget("shop-visitor", now); err != nil {
		return 0, err
	}
	events := []abi.Event{{Kind: abi.EventDeclare, Now: now, Name: "page_value", Value: strconv.FormatFloat(s.PageValue, 'g', -1, 64)}}
	if s.Returning {
		events = append(events, abi.Event{Kind: abi.EventDeclare, Now: now, Name: "returning", Value: "1"})
	}
	for k, cat := range PageKinds {
		for v := 0; v < int(s.Views[k]); v++ {
			now += 1000
			events = append(events, abi.Event{Kind: abi.EventPageView, Now: now, Category: cat})
		}
		if secs := s.Seconds[k]; secs > 0 {
			events = append(events, abi.Event{Kind: abi.EventTime, Now: now, Category: cat, Seconds: secs})
		}
	}
	for _, ev := range events {
		if err := e.Event(ev); err != nil {
			return 0, err
		}
	}
	out, err := e.Export(now)
	if err != nil {
		return 0, err
	}
	var x struct{ Models map[string]float64 }
	if err := json.Unmarshal(out, &x); err != nil {
		return 0, errors.New("bench: export is not JSON: " + err.Error())
	}
	return x.Models["buy"], nil
}
