// Package crontest generates random cron expressions for property tests:
// mostly well-formed, with the mistakes people make (values out of range,
// names in the wrong field, backwards ranges, stray separators) mixed in.
// It is pure, and for tests only.
package crontest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	maxima = [5]int{59, 23, 31, 12, 6}
	months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	days   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	macros = []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@fortnightly", "@Daily"}
	junk   = []string{"", "x", "*-5", "1-2-3", "5//2", "+5", "-1", "1/0", "*/", "?/3", "05", "L", "1-", "99999999999999999999"}
)

// Expression returns a random schedule. It never starts with "TZ=",
// "CRON_TZ=" or "@every", which nodewright refuses on purpose.
func Expression(r *rand.Rand) string {
	if r.IntN(20) == 0 {
		return macros[r.IntN(len(macros))]
	}
	n := 5
	if r.IntN(25) == 0 {
		n = 4 + 2*r.IntN(2)
	}
	fields := make([]string, n)
	for i := range fields {
		fields[i] = field(r, i%5)
	}
	sep := " "
	switch r.IntN(30) {
	case 0:
		sep = "  "
	case 1:
		sep = "\t"
	}
	return strings.Join(fields, sep)
}

func field(r *rand.Rand, i int) string {
	items := make([]string, 1+r.IntN(3)*r.IntN(2))
	for j := range items {
		items[j] = item(r, i)
	}
	if r.IntN(40) == 0 {
		items = append(items, "")
	}
	return strings.Join(items, ",")
}

func item(r *rand.Rand, i int) string {
	if r.IntN(60) == 0 {
		return junk[r.IntN(len(junk))]
	}
	var s string
	switch r.IntN(5) {
	case 0:
		s = "*"
	case 1:
		s = []string{"*", "?"}[r.IntN(2)]
	case 2:
		s, _ = value(r, i)
	default:
		a, va := value(r, i)
		b, vb := value(r, i)
		if va > vb && r.IntN(5) > 0 {
			a, b = b, a // mostly forwards
		}
		s = a + "-" + b
	}
	if r.IntN(3) == 0 {
		s += fmt.Sprintf("/%d", r.IntN(maxima[i]+2))
	}
	return s
}

// value is mostly in range, sometimes a name (usually of the right field,
// in any case), sometimes just outside the field's bounds. It returns the
// number the text stands for, to order ranges.
func value(r *rand.Rand, i int) (string, int) {
	switch r.IntN(10) {
	case 0:
		names := months
		if i == 4 || (i != 3 && r.IntN(2) == 0) {
			names = days
		}
		if r.IntN(6) == 0 {
			names = append(months[:0:0], days...) // maybe the wrong field's
		}
		k := r.IntN(len(names))
		n := names[k]
		if r.IntN(3) == 0 {
			n = strings.ToUpper(n[:1]) + n[1:]
		}
		if len(names) == len(months) {
			return n, k + 1
		}
		return n, k % 7
	case 1:
		v := maxima[i] + 1 + r.IntN(2)
		if r.IntN(3) > 0 {
			v = r.IntN(maxima[i] + 1)
		}
		return fmt.Sprint(v), v
	case 2:
		v := r.IntN(maxima[i] + 1)
		return fmt.Sprintf("0%d", v), v
	default:
		v := r.IntN(maxima[i] + 1)
		return fmt.Sprint(v), v
	}
}
