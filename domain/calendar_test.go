package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The embedding of data/ happens elsewhere; tests read the file directly so
// that they check the very bytes that are shipped.
func loadCalendar(tb testing.TB) *Calendar {
	tb.Helper()
	data, err := os.ReadFile("data/holidays.json")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ParseCalendar(data)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func cst(year int, month time.Month, day, hour, min int) time.Time {
	return time.Date(year, month, day, hour, min, 0, 0, time.FixedZone("+08", 8*3600))
}

func TestCalendarIsWorkingDay(t *testing.T) {
	c := loadCalendar(t)
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"2025 元旦", cst(2025, 1, 1, 9, 0), false},
		{"2025 Sunday worked before 春节", cst(2025, 1, 26, 9, 0), true},
		{"2025 春节 first day (除夕)", cst(2025, 1, 28, 9, 0), false},
		{"2025 春节 last day", cst(2025, 2, 4, 9, 0), false},
		{"2025 Saturday worked after 春节", cst(2025, 2, 8, 9, 0), true},
		{"2025 清明 Sunday", cst(2025, 4, 6, 9, 0), false},
		{"2025 Sunday worked before 劳动节", cst(2025, 4, 27, 9, 0), true},
		{"2025 劳动节 Monday", cst(2025, 5, 5, 9, 0), false},
		{"2025 端午 Monday", cst(2025, 6, 2, 9, 0), false},
		{"2025 Sunday worked before 国庆", cst(2025, 9, 28, 9, 0), true},
		{"2025 国庆中秋 day 8", cst(2025, 10, 8, 9, 0), false},
		{"2025 Thursday after 国庆", cst(2025, 10, 9, 9, 0), true},
		{"2025 Saturday worked after 国庆", cst(2025, 10, 11, 9, 0), true},
		{"2026 元旦 Saturday", cst(2026, 1, 3, 9, 0), false},
		{"2026 Sunday worked after 元旦", cst(2026, 1, 4, 9, 0), true},
		{"2026 Friday before 春节", cst(2026, 2, 13, 9, 0), true},
		{"2026 Saturday worked before 春节", cst(2026, 2, 14, 9, 0), true},
		{"2026 春节 Sunday", cst(2026, 2, 15, 9, 0), false},
		{"2026 春节 Monday 23rd", cst(2026, 2, 23, 9, 0), false},
		{"2026 Tuesday after 春节", cst(2026, 2, 24, 9, 0), true},
		{"2026 Saturday worked after 春节", cst(2026, 2, 28, 9, 0), true},
		{"2026 ordinary Saturday", cst(2026, 3, 7, 9, 0), false},
		{"2026 ordinary Sunday", cst(2026, 3, 8, 9, 0), false},
		{"2026 ordinary Monday", cst(2026, 3, 9, 9, 0), true},
		{"2026 清明 Monday", cst(2026, 4, 6, 9, 0), false},
		{"2026 劳动节 Tuesday", cst(2026, 5, 5, 9, 0), false},
		{"2026 Saturday worked after 劳动节", cst(2026, 5, 9, 9, 0), true},
		{"2026 端午 Friday", cst(2026, 6, 19, 9, 0), false},
		{"2026 Sunday worked before 国庆", cst(2026, 9, 20, 9, 0), true},
		{"2026 中秋 Friday", cst(2026, 9, 25, 9, 0), false},
		{"2026 Wednesday before 国庆", cst(2026, 9, 30, 9, 0), true},
		{"2026 国庆 day 1", cst(2026, 10, 1, 9, 0), false},
		{"2026 国庆 day 7", cst(2026, 10, 7, 9, 0), false},
		{"2026 Thursday after 国庆", cst(2026, 10, 8, 9, 0), true},
		{"2026 Saturday worked after 国庆", cst(2026, 10, 10, 9, 0), true},
		{"2026 Sunday after the worked Saturday", cst(2026, 10, 11, 9, 0), false},
		{"uncovered 2027-01-01 counts as a Friday", cst(2027, 1, 1, 9, 0), true},
		{"uncovered 2024-10-01 counts as a Tuesday", cst(2024, 10, 1, 9, 0), true},
		{"uncovered 2027 Saturday", cst(2027, 1, 2, 9, 0), false},
		// 16:30 UTC on 14 February is already the 15th, a holiday, in China.
		{"UTC evening already next day in China", time.Date(2026, 2, 14, 16, 30, 0, 0, time.UTC), false},
		{"UTC evening still same day in China", time.Date(2026, 2, 14, 15, 59, 0, 0, time.UTC), true},
		{"UTC 30 Sept 17:00 is 1 Oct in China", time.Date(2026, 9, 30, 17, 0, 0, 0, time.UTC), false},
		{"US time zone", time.Date(2026, 2, 13, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsWorkingDay(tt.at); got != tt.want {
				t.Errorf("IsWorkingDay(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestCalendarAddWorkingDays(t *testing.T) {
	c := loadCalendar(t)
	tests := []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"Friday +1 is the worked Saturday", cst(2026, 2, 13, 10, 0), 1, cst(2026, 2, 14, 10, 0)},
		{"worked Saturday +1 skips 春节", cst(2026, 2, 14, 10, 0), 1, cst(2026, 2, 24, 10, 0)},
		{"Friday +2 skips 春节", cst(2026, 2, 13, 10, 0), 2, cst(2026, 2, 24, 10, 0)},
		{"from inside a holiday", cst(2026, 2, 18, 23, 59), 1, cst(2026, 2, 24, 23, 59)},
		{"over the Saturday worked after 春节", cst(2026, 2, 27, 10, 0), 1, cst(2026, 2, 28, 10, 0)},
		// 国庆 2026 is 1–7 October, so the 8th (Thursday) is the next working day.
		{"eve of 国庆 +1", cst(2026, 9, 30, 10, 0), 1, cst(2026, 10, 8, 10, 0)},
		{"eve of 国庆 +2", cst(2026, 9, 30, 10, 0), 2, cst(2026, 10, 9, 10, 0)},
		{"eve of 国庆 +3 is the worked Saturday", cst(2026, 9, 30, 10, 0), 3, cst(2026, 10, 10, 10, 0)},
		{"eve of 国庆 +4 skips Sunday", cst(2026, 9, 30, 10, 0), 4, cst(2026, 10, 12, 10, 0)},
		{"20 working days across 中秋 and 国庆", cst(2026, 9, 21, 9, 0), 20, cst(2026, 10, 26, 9, 0)},
		{"2025 Friday +1 is the worked Sunday", cst(2025, 1, 24, 15, 0), 1, cst(2025, 1, 26, 15, 0)},
		{"2025 Friday +3 skips 春节", cst(2025, 1, 24, 15, 0), 3, cst(2025, 2, 5, 15, 0)},
		{"2025 eve of 国庆 +1", cst(2025, 9, 30, 15, 0), 1, cst(2025, 10, 9, 15, 0)},
		{"2025 eve of 国庆 +3 is the worked Saturday", cst(2025, 9, 30, 15, 0), 3, cst(2025, 10, 11, 15, 0)},
		{"weekend only past the data", cst(2026, 12, 31, 8, 0), 2, cst(2027, 1, 4, 8, 0)},
		{"n = 0 returns t", cst(2026, 2, 15, 10, 0), 0, cst(2026, 2, 15, 10, 0)},
		{"negative n returns t", cst(2026, 2, 15, 10, 0), -3, cst(2026, 2, 15, 10, 0)},
		// 17:00 UTC on 13 February is Saturday the 14th, 01:00, in China.
		{"UTC evening counts from the China date",
			time.Date(2026, 2, 13, 17, 0, 0, 0, time.UTC), 1,
			time.Date(2026, 2, 23, 17, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddWorkingDays(tt.from, tt.n)
			if !got.Equal(tt.want) {
				t.Errorf("AddWorkingDays(%v, %d) = %v, want %v", tt.from, tt.n, got, tt.want)
			}
			if got.Location() != tt.from.Location() {
				t.Errorf("location = %v, want t's location %v", got.Location(), tt.from.Location())
			}
		})
	}
}

// TestCalendarAddWorkingDaysMatchesNaive checks the week-skipping fast path
// against counting one day at a time.
func TestCalendarAddWorkingDaysMatchesNaive(t *testing.T) {
	c := loadCalendar(t)
	naive := func(from time.Time, n int) time.Time {
		ct := from.In(chinaTime())
		for n > 0 {
			ct = ct.AddDate(0, 0, 1)
			if c.IsWorkingDay(ct) {
				n--
			}
		}
		return ct
	}
	starts := []time.Time{
		cst(2024, 6, 3, 12, 0), cst(2024, 11, 29, 23, 0), cst(2025, 1, 1, 0, 0),
		cst(2025, 9, 27, 8, 30), cst(2026, 2, 1, 17, 45), cst(2026, 12, 30, 9, 0),
	}
	for _, from := range starts {
		for n := 0; n <= 400; n += 7 {
			if got, want := c.AddWorkingDays(from, n), naive(from, n); !got.Equal(want) {
				t.Fatalf("AddWorkingDays(%v, %d) = %v, naive count gives %v", from, n, got, want)
			}
		}
	}
}

func TestCalendarAddWorkingDaysLargeN(t *testing.T) {
	c := loadCalendar(t)
	from := cst(2026, 1, 5, 9, 0)
	got := c.AddWorkingDays(from, 1_000_000)
	if !c.IsWorkingDay(got) || !got.After(from) {
		t.Errorf("AddWorkingDays(%v, 1e6) = %v, want a later working day", from, got)
	}
	// Far from the data a week has five working days: 5,000 days is 1,000
	// weeks from a Monday in 3000, landing on a Monday again.
	far := cst(3000, 1, 6, 9, 0)
	for far.Weekday() != time.Monday {
		far = far.AddDate(0, 0, 1)
	}
	if want := far.AddDate(0, 0, 7000); !c.AddWorkingDays(far, 5000).Equal(want) {
		t.Errorf("AddWorkingDays(%v, 5000) = %v, want %v", far, c.AddWorkingDays(far, 5000), want)
	}
	_ = c.AddWorkingDays(from, int(^uint(0)>>1)) // must return, not hang or panic
}

func TestCalendarCoversAndVersion(t *testing.T) {
	c := loadCalendar(t)
	for year, want := range map[int]bool{2024: false, 2025: true, 2026: true, 2027: false} {
		if got := c.Covers(year); got != want {
			t.Errorf("Covers(%d) = %v, want %v", year, got, want)
		}
	}
	if !strings.HasPrefix(c.Version(), "cn-workdays-") {
		t.Errorf("Version() = %q", c.Version())
	}
}

// TestCalendarDataCounts pins the data to the published notices: the number
// of days off and of worked weekend days per year.
func TestCalendarDataCounts(t *testing.T) {
	c := loadCalendar(t)
	for _, tt := range []struct {
		year                 int
		holidays, workingDay int
	}{
		{2025, 1 + 8 + 3 + 5 + 3 + 8, 5},
		{2026, 3 + 9 + 3 + 5 + 3 + 3 + 7, 6},
	} {
		t.Run(fmt.Sprint(tt.year), func(t *testing.T) {
			var holidays, working int
			for d := cst(tt.year, 1, 1, 12, 0); d.Year() == tt.year; d = d.AddDate(0, 0, 1) {
				weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
				switch w := c.IsWorkingDay(d); {
				case w && weekend:
					working++
				case !w:
					if _, ok := c.days[dayNumber(d.Date())]; ok {
						holidays++
					}
				}
			}
			if holidays != tt.holidays || working != tt.workingDay {
				t.Errorf("%d: %d holidays and %d worked weekend days, want %d and %d",
					tt.year, holidays, working, tt.holidays, tt.workingDay)
			}
		})
	}
}

func TestCalendarNil(t *testing.T) {
	var c *Calendar
	if c.IsWorkingDay(cst(2026, 2, 14, 9, 0)) {
		t.Error("nil calendar: Saturday should be a day off")
	}
	if !c.IsWorkingDay(cst(2026, 2, 16, 9, 0)) {
		t.Error("nil calendar: Monday should be a working day")
	}
	if got, want := c.AddWorkingDays(cst(2026, 2, 13, 9, 0), 1), cst(2026, 2, 16, 9, 0); !got.Equal(want) {
		t.Errorf("nil calendar: AddWorkingDays = %v, want %v", got, want)
	}
	if c.Covers(2026) || c.Version() != "" {
		t.Error("nil calendar covers nothing and has no version")
	}
}

const validCalendarJSON = `{"version":"v1","years":[{"year":2026,
"source":{"title":"t","document":"d"},
"holidays":[{"name":"春节","start":"2026-02-15","end":"2026-02-23"}],
"workingDays":[{"date":"2026-02-14","holiday":"春节"}]}]}`

func TestParseCalendarRefusesBadData(t *testing.T) {
	if _, err := ParseCalendar([]byte(validCalendarJSON)); err != nil {
		t.Fatalf("the base document must parse: %v", err)
	}
	tests := []struct {
		name    string
		json    string
		wantErr any // a pointer to an error type the chain must hold, or nil
	}{
		{"empty input", ``, nil},
		{"not JSON", `holidays`, new(*json.SyntaxError)},
		{"truncated", validCalendarJSON[:40], nil},
		{"trailing data", validCalendarJSON + `{}`, nil},
		{"wrong type", `{"version":1,"years":[]}`, new(*json.UnmarshalTypeError)},
		{"unknown field", strings.Replace(validCalendarJSON, `"version"`, `"versoin":"x","version"`, 1), nil},
		{"null", `null`, nil},
		{"empty version", strings.Replace(validCalendarJSON, `"v1"`, `" "`, 1), nil},
		{"no years", `{"version":"v1","years":[]}`, nil},
		{"year out of range", strings.Replace(validCalendarJSON, `"year":2026`, `"year":99999`, 1), nil},
		{"no source", strings.Replace(validCalendarJSON, `"title":"t","document":"d"`, `"title":"t"`, 1), nil},
		{"no title", strings.Replace(validCalendarJSON, `"title":"t"`, `"title":""`, 1), nil},
		{"no holidays", `{"version":"v1","years":[{"year":2026,"source":{"title":"t","document":"d"},"holidays":[]}]}`, nil},
		{"holiday without name", strings.Replace(validCalendarJSON, `"name":"春节"`, `"name":""`, 1), nil},
		{"bad start date", strings.Replace(validCalendarJSON, `"2026-02-15"`, `"2026-02-30"`, 1), new(*time.ParseError)},
		{"one-digit month", strings.Replace(validCalendarJSON, `"2026-02-15"`, `"2026-2-15"`, 1), new(*time.ParseError)},
		{"bad end date", strings.Replace(validCalendarJSON, `"2026-02-23"`, `"23 Feb"`, 1), new(*time.ParseError)},
		{"end before start", strings.Replace(validCalendarJSON, `"2026-02-23"`, `"2026-02-10"`, 1), nil},
		{"range too long", strings.Replace(validCalendarJSON, `"2026-02-23"`, `"2026-06-23"`, 1), nil},
		{"holiday in another year", strings.Replace(validCalendarJSON, `"start":"2026-02-15","end":"2026-02-23"`, `"start":"2024-02-15","end":"2024-02-23"`, 1), nil},
		{"bad working day", strings.Replace(validCalendarJSON, `"2026-02-14"`, `"2026-13-01"`, 1), new(*time.ParseError)},
		{"working day on a weekday", strings.Replace(validCalendarJSON, `"2026-02-14"`, `"2026-02-13"`, 1), nil},
		{"working day also a holiday", strings.Replace(validCalendarJSON, `"2026-02-14"`, `"2026-02-15"`, 1), nil},
		{"working day in another year", strings.Replace(validCalendarJSON, `"2026-02-14"`, `"2027-02-13"`, 1), nil},
		{"working day for an unknown holiday", strings.Replace(validCalendarJSON, `"holiday":"春节"`, `"holiday":"国庆节"`, 1), nil},
		{"overlapping holidays", strings.Replace(validCalendarJSON, `"holidays":[`, `"holidays":[{"name":"x","start":"2026-02-20","end":"2026-02-21"},`, 1), nil},
		{"year twice", `{"version":"v1","years":[` + yearJSON(validCalendarJSON) + `,` + yearJSON(validCalendarJSON) + `]}`, nil},
		{"bad published date", strings.Replace(validCalendarJSON, `"document":"d"`, `"document":"d","published":"yesterday"`, 1), new(*time.ParseError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCalendar([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseCalendar accepted %s", tt.json)
			}
			if c != nil {
				t.Error("ParseCalendar returned a calendar with an error")
			}
			if !errors.Is(err, ErrInvalidCalendar) {
				t.Errorf("error %v does not wrap ErrInvalidCalendar", err)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %T", err, tt.wantErr)
			}
		})
	}
}

// yearJSON cuts the single year object out of a one-year document.
func yearJSON(doc string) string {
	start := strings.Index(doc, `[{"year"`) + 1
	return doc[start : len(doc)-2]
}

func FuzzParseCalendar(f *testing.F) {
	data, err := os.ReadFile("data/holidays.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(validCalendarJSON))
	f.Add([]byte(`{"version":"v","years":[{"year":1900,"source":{"title":"t","url":"u"},"holidays":[{"name":"n","start":"1899-12-01","end":"1899-12-31"}],"workingDays":[{"date":"1900-12-29"}]}]}`))
	f.Add([]byte(`{"version":"v","years":[{"year":9999,"source":{"title":"t","url":"u"},"holidays":[{"name":"n","start":"9999-12-31","end":"9999-12-31"}]}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCalendar(data)
		if err != nil {
			if c != nil || !errors.Is(err, ErrInvalidCalendar) {
				t.Fatalf("ParseCalendar error %v: calendar %v, want nil and ErrInvalidCalendar", err, c)
			}
			return
		}
		if c.Version() == "" {
			t.Fatal("parsed calendar has no version")
		}
		// Every result must be a later working day, however odd the data.
		for _, from := range []time.Time{cst(1899, 12, 31, 23, 0), cst(2026, 2, 13, 10, 0), time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)} {
			for _, n := range []int{1, 2, 5, 30} {
				got := c.AddWorkingDays(from, n)
				if !got.After(from) || !c.IsWorkingDay(got) {
					t.Fatalf("AddWorkingDays(%v, %d) = %v: not a later working day", from, n, got)
				}
			}
		}
	})
}
