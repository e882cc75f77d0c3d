// Package rules is the rule set: what an operator writes (JSON, decoded by the server), its validation and
// compilation (the same code runs in the server and in the engine), and its compact binary form (package
// wire) that travels to browsers.
//
// An operator's rule set names everything by id: preferences a site offers, goals, segments (conditions over
// the visitor's behaviour, preferences, context and other segments), logistic models, slots (variants with
// conditions, or ranked candidate items) and triggers (actions fired on entering a segment).
//
// # Conditions
//
// A condition is one of
//
//	{"all": [cond, ...]}   every one matches (an empty list matches)
//	{"any": [cond, ...]}   at least one matches (an empty list does not)
//	{"not": cond}
//	{"segment": "id"}      the visitor is in that segment
//	{"attr": "name", "op": "operator", "value": v}
//
// Attributes the engine knows (N is a window in days, 1 to 90; CAT any page category):
//
//	visits, visits.Nd                 visits (a new one after visit_gap_minutes without activity)
//	views, views.Nd, views.CAT, views.CAT.Nd     page views
//	time, time.CAT                    seconds of visible time
//	goals.ID, goals.ID.Nd             goals reached
//	journey                           the last journey_length page categories (a list; journey.last the latest)
//	page.category, page.path          the page being decided
//	pref.ID                           a preference (a number, a string, or a list for sets)
//	interest.CAT                      the decayed interest score of a category
//	model.ID                          a model's conversion probability, 0 to 1
//	attr.NAME                         an attribute the visitor declared (an age band, say)
//	ctx.lang, ctx.tz                  coarse context the host passes (language, time-zone offset in minutes)
//	now, first_seen                   instants, for before and after
//
// Operators: eq, ne, lt, lte, gt, gte, between ([lo, hi], inclusive), in (a list), prefix, suffix, contains,
// glob (path globs: * within one segment, ** across segments), has_any, has_all (the attribute is a list),
// semver_eq, semver_lt, semver_lte, semver_gt, semver_gte, before, after (RFC 3339 times, an instant: a time
// written without an offset is UTC), exists.
//
// Semantics, so they never surprise: a missing attribute matches no comparison (and "not" of one is true);
// when both sides parse as finite numbers they compare as numbers ("10" > "9"), otherwise eq and ne compare
// the strings and ordering operators do not match; strings compare by bytes after the rule set's
// normalisation ("lower" folds ASCII and Latin letters to lower case and trims spaces; "none" keeps them);
// semantic versions follow semver 2.0 precedence (a leading v is accepted, build metadata ignored) and an
// invalid version matches nothing; before and after are strict at the instant.
package rules

// RuleSet is one version of an operator's rules. The zero value of each setting means its default.
type RuleSet struct {
	// Version and Hash are assigned by the server when the set is pushed.
	Version uint64 `json:"version,omitempty"`
	Hash    string `json:"hash,omitempty"`
	Name    string `json:"name,omitempty"`
	// VisitGapMinutes starts a new visit after this long without activity. Default 30.
	VisitGapMinutes float64 `json:"visit_gap_minutes,omitempty"`
	// InterestHalfLifeDays is the half-life of interest scores. Default 14.
	InterestHalfLifeDays float64 `json:"interest_half_life_days,omitempty"`
	// JourneyLength is how many page categories the journey keeps. Default 10, at most 100.
	JourneyLength int `json:"journey_length,omitempty"`
	// ReportWindowHours: a visitor counts at most once per counter per window. Default 24.
	ReportWindowHours int `json:"report_window_hours,omitempty"`
	// K: cells under K are reported as suppressed. Default 10. Only the server uses it.
	K int `json:"k,omitempty"`
	// Holdout is the share of visitors (0 to 1) who see every slot's default.
	Holdout float64 `json:"holdout,omitempty"`
	// HoldoutVersion re-buckets the global holdout when bumped.
	HoldoutVersion int `json:"holdout_version,omitempty"`
	// Normalize is how strings are normalised before they compare: "none" (default) or "lower".
	Normalize string `json:"normalize,omitempty"`

	Preferences []Preference `json:"preferences,omitempty"`
	Goals       []Goal       `json:"goals,omitempty"`
	Segments    []Segment    `json:"segments,omitempty"`
	Models      []Model      `json:"models,omitempty"`
	Slots       []Slot       `json:"slots,omitempty"`
	Triggers    []Trigger    `json:"triggers,omitempty"`
}

// Preference kinds.
const (
	KindEnum   = "enum"   // one of Values
	KindNumber = "number" // a number within [Min, Max], a multiple of Step from Min when Step is set
	KindSet    = "set"    // any subset of Values
	KindBool   = "bool"
)

// Preference roles the engine uses when it ranks items.
const (
	RoleFollow = "follow" // items in these categories come first
	RoleHide   = "hide"   // items in these categories are never shown
)

// Preference is a choice the site offers its visitors.
type Preference struct {
	ID string `json:"id"`
	// Group is for people: "display", "search" or "content".
	Group  string   `json:"group,omitempty"`
	Kind   string   `json:"kind"`
	Values []string `json:"values,omitempty"`
	Min    float64  `json:"min,omitempty"`
	Max    float64  `json:"max,omitempty"`
	Step   float64  `json:"step,omitempty"`
	// Default is a string (enum), a number, a list of strings (set) or a boolean.
	Default any `json:"default,omitempty"`
	// Role is "follow" or "hide" for set preferences over page categories, else empty.
	Role string `json:"role,omitempty"`
	// Assign puts a visitor who chooses a value into a segment for a while.
	Assign []Assignment `json:"assign,omitempty"`
}

// Assignment: choosing Value puts the visitor in Segment for TTLHours (0: until they choose otherwise).
type Assignment struct {
	Value    string  `json:"value"`
	Segment  string  `json:"segment"`
	TTLHours float64 `json:"ttl_hours,omitempty"`
}

// Goal is a conversion the site reports (a purchase, a sign-up).
type Goal struct {
	ID string `json:"id"`
}

// Segment is a named condition. A segment with a TTL keeps a visitor from the moment they enter for TTLHours,
// whatever the condition says meanwhile; after that they are in it again only while the condition holds.
// A segment without a condition is entered only by an assignment.
type Segment struct {
	ID       string  `json:"id"`
	When     *Cond   `json:"when,omitempty"`
	TTLHours float64 `json:"ttl_hours,omitempty"`
}

// Cond is a condition; exactly one of its forms is set (see the package doc).
type Cond struct {
	All     []Cond `json:"all,omitempty"`
	Any     []Cond `json:"any,omitempty"`
	Not     *Cond  `json:"not,omitempty"`
	Segment string `json:"segment,omitempty"`
	Attr    string `json:"attr,omitempty"`
	Op      string `json:"op,omitempty"`
	// Value is a string, a number, a boolean or a list of them, as the operator needs.
	Value any `json:"value,omitempty"`
}

// Model is a logistic model: p = 1 / (1 + exp(-(Bias + sum of Weight * transform(feature)))).
type Model struct {
	ID       string    `json:"id"`
	Bias     float64   `json:"bias"`
	Features []Feature `json:"features"`
}

// Feature transforms.
const (
	TransformNone  = "none"
	TransformLog1p = "log1p"
	TransformSqrt  = "sqrt"
	TransformBool  = "bool" // 1 when the attribute is present and non-zero
)

// Feature is one weighted input of a model: a numeric attribute, transformed.
type Feature struct {
	Attr      string  `json:"attr"`
	Transform string  `json:"transform,omitempty"`
	Weight    float64 `json:"weight"`
}

// Slot is a place on a page. It shows the first variant whose condition matches, else Default. With Rank
// set it also orders the candidate items the page supplies by the visitor's interests and followed topics
// (hidden topics are never shown): always when the slot has no variants, else only under a variant, so
// that its default keeps the page's order for everyone.
type Slot struct {
	ID string `json:"id"`
	// Holdout is the share of visitors (0 to 1) who see Default here, to measure what the slot changed.
	Holdout float64 `json:"holdout,omitempty"`
	// BucketVersion re-buckets the slot's visitors when bumped; until then assignment is sticky.
	BucketVersion int       `json:"bucket_version,omitempty"`
	Variants      []Variant `json:"variants,omitempty"`
	Default       Variant   `json:"default"`
	Rank          *Rank     `json:"rank,omitempty"`
}

// Variant is what a slot shows: a template the page holds, plain text, attribute values. Never markup.
type Variant struct {
	ID   string `json:"id"`
	When *Cond  `json:"when,omitempty"`
	// Traffic is the share (0 to 1) of matching visitors who get this variant; the rest fall through to the
	// next one. Zero means all.
	Traffic  float64           `json:"traffic,omitempty"`
	Template string            `json:"template,omitempty"`
	Text     string            `json:"text,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// Rank orders candidate items by the visitor's interest in their categories.
type Rank struct {
	// Limit is how many items to keep. Zero keeps all.
	Limit int `json:"limit,omitempty"`
	// MinScore: with no item scoring at least this, the slot shows its default order. Default 0.
	MinScore float64 `json:"min_score,omitempty"`
}

// Trigger fires Action when the visitor enters a segment, within its caps. A parameter written as
// "{top_view:PREFIX}" is filled in on the device with the page category the visitor viewed most among
// those starting with PREFIX, without the prefix (the car model they looked at most, say); a trigger
// whose parameter cannot be filled does not fire.
type Trigger struct {
	ID      string            `json:"id"`
	OnEnter string            `json:"on_enter"`
	Action  string            `json:"action"`
	Params  map[string]string `json:"params,omitempty"`
	// EveryHours: at most once per this many hours. Zero: no such cap.
	EveryHours float64 `json:"every_hours,omitempty"`
	// Max: at most this many times in all. Zero: no such cap.
	Max int `json:"max,omitempty"`
}
