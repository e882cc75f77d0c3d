package rules

import "strings"

// Problem is one thing wrong with a rule set, at a path such as `segments[3].when.all[1]`.
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is every problem found in a rule set; Compile returns it as its error.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	b.WriteString("rules: rule set does not validate: ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// maxProblems stops a hostile or broken set from producing an unbounded report.
const maxProblems = 100

type problems struct {
	list Problems
}

// add is not inlined: the compiler calls it at a hundred sites, each copy costing the engine's download.
//
//go:noinline
func (p *problems) add(path, msg string) {
	if len(p.list) < maxProblems {
		p.list = append(p.list, Problem{Path: path, Msg: msg})
	}
}

// quote writes s in double quotes with control characters escaped, so a message shows a stray space or
// newline in what the operator wrote.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
