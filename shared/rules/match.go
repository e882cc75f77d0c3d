package rules

import "strings"

// Semver is a parsed semantic version (semver 2.0; build metadata dropped).
type Semver struct {
	Major, Minor, Patch uint64
	Pre                 []string
}

// ParseSemver parses "1.2.3", "v1.2.3-rc.1+build". It reports false for anything else.
func ParseSemver(s string) (Semver, bool) {
	var v Semver
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return v, false
		}
		s = s[:i]
	}
	core := s
	if i := strings.IndexByte(s, '-'); i >= 0 {
		core = s[:i]
		pre := s[i+1:]
		if !validIdents(pre, true) {
			return v, false
		}
		v.Pre = strings.Split(pre, ".")
	}
	// major.minor.patch, read without splitting: versions are parsed on every evaluation.
	major, rest, ok1 := strings.Cut(core, ".")
	minor, patch, ok2 := strings.Cut(rest, ".")
	var ok3, ok4, ok5 bool
	v.Major, ok3 = numericIdent(major)
	v.Minor, ok4 = numericIdent(minor)
	v.Patch, ok5 = numericIdent(patch)
	return v, ok1 && ok2 && ok3 && ok4 && ok5
}

// numericIdent parses a non-negative integer without leading zeros.
func numericIdent(p string) (uint64, bool) {
	if p == "" || len(p) > 19 || (len(p) > 1 && p[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(p[i]-'0')
	}
	return n, true
}

func validIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		digits := true
		for i := 0; i < len(id); i++ {
			b := id[i]
			isDigit := b >= '0' && b <= '9'
			if !(isDigit || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '-') {
				return false
			}
			digits = digits && isDigit
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// CompareSemver returns -1, 0 or 1 by semver 2.0 precedence.
func CompareSemver(a, b Semver) int {
	for _, d := range [3][2]uint64{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		if d[0] != d[1] {
			return cmp(d[0] < d[1])
		}
	}
	// A version without prerelease ranks above one with.
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1
	case len(b.Pre) == 0:
		return -1
	}
	for i := 0; i < len(a.Pre) && i < len(b.Pre); i++ {
		x, y := a.Pre[i], b.Pre[i]
		if x == y {
			continue
		}
		nx, okx := numericIdent(x)
		ny, oky := numericIdent(y)
		switch {
		case okx && oky:
			return cmp(nx < ny)
		case okx: // numeric identifiers rank below alphanumeric ones
			return -1
		case oky:
			return 1
		}
		return cmp(x < y)
	}
	switch {
	case len(a.Pre) < len(b.Pre):
		return -1
	case len(a.Pre) > len(b.Pre):
		return 1
	}
	return 0
}

func cmp(less bool) int {
	if less {
		return -1
	}
	return 1
}

// Glob matches a path against a pattern where * matches within one segment (no '/') and ** matches
// across segments: "/blog/**" matches everything under /blog/, "/a/**/b" matches /a/b and /a/x/y/b.
func Glob(pattern, path string) bool {
	for len(pattern) > 0 {
		switch {
		case strings.HasPrefix(pattern, "**"):
			// ** matches any run of characters, '/' included; "/**/" also matches a single '/'.
			rest := pattern[2:]
			if strings.HasPrefix(rest, "/") && Glob(rest[1:], path) {
				return true
			}
			for i := 0; i <= len(path); i++ {
				if Glob(rest, path[i:]) {
					return true
				}
			}
			return false
		case pattern[0] == '*':
			rest := pattern[1:]
			for i := 0; i <= len(path); i++ {
				if Glob(rest, path[i:]) {
					return true
				}
				if i < len(path) && path[i] == '/' {
					return false
				}
			}
			return false
		default:
			if len(path) == 0 || path[0] != pattern[0] {
				return false
			}
			pattern, path = pattern[1:], path[1:]
		}
	}
	return path == ""
}

// ParseTime parses an RFC 3339 time ("2026-12-24T18:00:00+01:00", fractional seconds allowed, "Z" or an
// offset; without an offset the time is UTC; a date alone is midnight UTC) into Unix milliseconds. It is
// written here because the engine cannot afford package time's formatting.
func ParseTime(s string) (int64, bool) {
	num := func(from, n int) (int64, bool) {
		if from+n > len(s) {
			return 0, false
		}
		var v int64
		for i := from; i < from+n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int64(s[i]-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, false
	}
	ms := daysFromCivil(y, mo, d) * 86400000
	if len(s) == 10 {
		return ms, true
	}
	if s[10] != 'T' && s[10] != 't' && s[10] != ' ' {
		return 0, false
	}
	h, ok1 := num(11, 2)
	mi, ok2 := num(14, 2)
	sec, ok3 := num(17, 2)
	if !ok1 || !ok2 || !ok3 || s[13] != ':' || s[16] != ':' || h > 23 || mi > 59 || sec > 60 {
		return 0, false
	}
	ms += (h*3600 + mi*60 + sec) * 1000
	i := 19
	if i < len(s) && s[i] == '.' {
		i++
		start, frac, scale := i, int64(0), int64(100)
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			frac += int64(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return 0, false
		}
		ms += frac
	}
	switch rest := s[i:]; {
	case rest == "" || rest == "Z" || rest == "z":
		return ms, true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(i+1, 2)
		om, ok2 := num(i+4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off := (oh*60 + om) * 60000
		if rest[0] == '+' {
			return ms - off, true
		}
		return ms + off, true
	}
	return 0, false
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
