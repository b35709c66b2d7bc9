package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// dataError is the type of the sentinel errors the Parse functions wrap. They
// are constants rather than errors.New values so that no package-level
// variable exists that a caller could reassign.
type dataError string

func (e dataError) Error() string { return string(e) }

// ErrInvalidCalendar is wrapped by every error ParseCalendar returns, so that
// callers can tell bad data from other failures with errors.Is.
const ErrInvalidCalendar dataError = "invalid calendar data"

const (
	secondsPerDay = 24 * 60 * 60
	// chinaOffset is China Standard Time. China has had no daylight saving
	// since 1991, so a fixed zone is exact for every date a filing can carry
	// and, unlike time.LoadLocation, needs no tzdata on the host.
	chinaOffset = 8 * 60 * 60
	// maxHolidayDays bounds one holiday range; the longest published break is
	// nine days, so anything near a month is a typing error in the data.
	maxHolidayDays = 31
	// maxAddDays bounds AddWorkingDays so that absurd input cannot make it
	// overflow; it is about 4 million years of working days.
	maxAddDays = 1 << 30
)

// chinaTime returns China Standard Time. It is a function, not a package
// variable, to keep the package free of mutable state.
func chinaTime() *time.Location { return time.FixedZone("CST", chinaOffset) }

// Calendar knows China's working days: Monday to Friday, minus the public
// holidays, plus the weekend days the State Council moves to working days
// (调休上班). Dates are taken in China Standard Time (UTC+8). A Calendar is
// immutable after ParseCalendar and safe for concurrent use; a nil *Calendar
// counts weekends only.
type Calendar struct {
	version string
	// days holds the exceptions to the weekend rule, keyed by day number
	// (days since 1970-01-01): true for an adjusted working day, false for a
	// holiday.
	days  map[int64]bool
	years map[int]bool
	// first and last bound the keys of days, so AddWorkingDays can jump
	// whole weeks outside them.
	first, last int64
}

// calendarFile is the JSON form of data/holidays.json.
type calendarFile struct {
	Version string         `json:"version"`
	Years   []calendarYear `json:"years"`
}

// calendarYear is one published schedule (国务院办公厅关于…部分节假日安排的通知).
type calendarYear struct {
	Year        int               `json:"year"`
	Source      calendarSource    `json:"source"`
	Holidays    []calendarHoliday `json:"holidays"`
	WorkingDays []calendarWorkday `json:"workingDays"`
}

// calendarSource names the notice a schedule was copied from, so a reviewer
// can check the data against it.
type calendarSource struct {
	Title     string `json:"title"`
	Document  string `json:"document"`
	Published string `json:"published"`
	URL       string `json:"url"`
	Note      string `json:"note"`
}

// calendarHoliday is one named break, start and end inclusive.
type calendarHoliday struct {
	Name   string `json:"name"`
	NameEn string `json:"nameEn"`
	Start  string `json:"start"`
	End    string `json:"end"`
}

// calendarWorkday is one weekend day that is worked to make up for a break.
type calendarWorkday struct {
	Date    string `json:"date"`
	Holiday string `json:"holiday"`
}

// ParseCalendar reads the JSON of data/holidays.json and checks it: a
// version, at least one year, each year once, a named source, dates written
// YYYY-MM-DD that lie in their schedule's year (or the December before it,
// which past schedules have used), holiday ranges in order and at most a
// month long, adjusted working days on weekends, and no day listed twice or
// as both holiday and working day. Every error wraps ErrInvalidCalendar and,
// where there is one, the underlying JSON or date error.
func ParseCalendar(data []byte) (*Calendar, error) {
	var f calendarFile
	if err := decodeStrictJSON(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCalendar, err)
	}
	if strings.TrimSpace(f.Version) == "" {
		return nil, fmt.Errorf("%w: version is empty", ErrInvalidCalendar)
	}
	if len(f.Years) == 0 {
		return nil, fmt.Errorf("%w: no years", ErrInvalidCalendar)
	}
	c := &Calendar{
		version: f.Version,
		days:    make(map[int64]bool),
		years:   make(map[int]bool, len(f.Years)),
	}
	for i, y := range f.Years {
		if err := c.addYear(y); err != nil {
			return nil, fmt.Errorf("%w: years[%d]: %w", ErrInvalidCalendar, i, err)
		}
	}
	first := true
	for dn := range c.days {
		if first || dn < c.first {
			c.first = dn
		}
		if first || dn > c.last {
			c.last = dn
		}
		first = false
	}
	return c, nil
}

// decodeStrictJSON decodes exactly one JSON value and refuses unknown fields,
// so that a misspelt key in hand-edited data fails loudly instead of being
// dropped.
func decodeStrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func (c *Calendar) addYear(y calendarYear) error {
	// The bounds keep every date inside what time.Date handles exactly and
	// reject years that are plainly typos.
	if y.Year < 1900 || y.Year > 9999 {
		return fmt.Errorf("year %d is out of range 1900–9999", y.Year)
	}
	if c.years[y.Year] {
		return fmt.Errorf("year %d is listed twice", y.Year)
	}
	if strings.TrimSpace(y.Source.Title) == "" {
		return errors.New("source.title is empty")
	}
	if strings.TrimSpace(y.Source.Document) == "" && strings.TrimSpace(y.Source.URL) == "" {
		return errors.New("source needs a document number or a url")
	}
	if y.Source.Published != "" {
		if _, err := parseDayNumber(y.Source.Published); err != nil {
			return fmt.Errorf("source.published: %w", err)
		}
	}
	if len(y.Holidays) == 0 {
		return errors.New("no holidays")
	}
	// Schedules start in the December before their year when 元旦 falls on a
	// weekend (the 2012 and 2023 notices did), hence the window's start.
	lo := dayNumber(y.Year-1, time.December, 1)
	hi := dayNumber(y.Year, time.December, 31)
	names := make(map[string]bool, len(y.Holidays))
	for j, h := range y.Holidays {
		if strings.TrimSpace(h.Name) == "" {
			return fmt.Errorf("holidays[%d]: name is empty", j)
		}
		names[h.Name] = true
		start, err := parseDayNumber(h.Start)
		if err != nil {
			return fmt.Errorf("holidays[%d].start: %w", j, err)
		}
		end, err := parseDayNumber(h.End)
		if err != nil {
			return fmt.Errorf("holidays[%d].end: %w", j, err)
		}
		if end < start {
			return fmt.Errorf("holidays[%d]: end %s is before start %s", j, h.End, h.Start)
		}
		if end-start >= maxHolidayDays {
			return fmt.Errorf("holidays[%d]: %s to %s is longer than %d days", j, h.Start, h.End, maxHolidayDays)
		}
		if start < lo || end > hi {
			return fmt.Errorf("holidays[%d]: %s to %s is outside the schedule's year %d", j, h.Start, h.End, y.Year)
		}
		for dn := start; dn <= end; dn++ {
			if err := c.mark(dn, false); err != nil {
				return fmt.Errorf("holidays[%d]: %w", j, err)
			}
		}
	}
	for j, w := range y.WorkingDays {
		dn, err := parseDayNumber(w.Date)
		if err != nil {
			return fmt.Errorf("workingDays[%d].date: %w", j, err)
		}
		if dn < lo || dn > hi {
			return fmt.Errorf("workingDays[%d]: %s is outside the schedule's year %d", j, w.Date, y.Year)
		}
		// A weekday is a working day anyway; listing one means the data was
		// mistyped.
		if !isWeekend(dn) {
			return fmt.Errorf("workingDays[%d]: %s is not a Saturday or Sunday", j, w.Date)
		}
		if w.Holiday != "" && !names[w.Holiday] {
			return fmt.Errorf("workingDays[%d]: holiday %q is not among this year's holidays", j, w.Holiday)
		}
		if err := c.mark(dn, true); err != nil {
			return fmt.Errorf("workingDays[%d]: %w", j, err)
		}
	}
	c.years[y.Year] = true
	return nil
}

// mark records one exception to the weekend rule and refuses a day already
// recorded: overlapping ranges or a day both off and worked are data errors.
func (c *Calendar) mark(dn int64, working bool) error {
	if prev, ok := c.days[dn]; ok {
		date := formatDayNumber(dn)
		if prev != working {
			return fmt.Errorf("%s is both a holiday and a working day", date)
		}
		return fmt.Errorf("%s is listed twice", date)
	}
	c.days[dn] = working
	return nil
}

// IsWorkingDay reports whether t's date in China Standard Time is a working
// day. Outside the years the data covers only weekends are days off.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.isWorking(chinaDayNumber(t))
}

// AddWorkingDays returns the time n working days after t: the n-th working
// day after t's date in China Standard Time, at the same China time of day,
// expressed in t's location. It counts from the day after t whether or not t
// is itself a working day, as a "within n working days" deadline does. For
// n <= 0 it returns t unchanged.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	if n > maxAddDays {
		n = maxAddDays
	}
	zone := chinaTime()
	ct := t.In(zone)
	dn := dayNumber(ct.Date())
	remaining := int64(n)
	for remaining > 0 {
		// Far from any exception, a week holds exactly five working days;
		// jumping whole weeks keeps large n cheap.
		if weeks := c.plainWeeksAfter(dn, (remaining-1)/5); weeks > 0 {
			dn += 7 * weeks
			remaining -= 5 * weeks
			continue
		}
		dn++
		if c.isWorking(dn) {
			remaining--
		}
	}
	y, m, d := fromDayNumber(dn)
	hh, mm, ss := ct.Clock()
	return time.Date(y, m, d, hh, mm, ss, ct.Nanosecond(), zone).In(t.Location())
}

// plainWeeksAfter returns how many whole weeks after day dn, at most limit,
// contain no holiday or adjusted working day.
func (c *Calendar) plainWeeksAfter(dn, limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	if c == nil || len(c.days) == 0 || dn >= c.last {
		return limit
	}
	if dn < c.first {
		return min(limit, (c.first-1-dn)/7)
	}
	return 0
}

// Covers reports whether the schedule for year is in the data. For a year
// not covered, IsWorkingDay and AddWorkingDays fall back to weekends only,
// which callers may want to flag.
func (c *Calendar) Covers(year int) bool {
	return c != nil && c.years[year]
}

// Version returns the version string of the data, for audit logs that must
// say which calendar computed a deadline.
func (c *Calendar) Version() string {
	if c == nil {
		return ""
	}
	return c.version
}

func (c *Calendar) isWorking(dn int64) bool {
	if c != nil {
		if working, ok := c.days[dn]; ok {
			return working
		}
	}
	return !isWeekend(dn)
}

// chinaDayNumber is the day number of t's date in China Standard Time.
func chinaDayNumber(t time.Time) int64 {
	return dayNumber(t.In(chinaTime()).Date())
}

// dayNumber counts days from 1970-01-01 to a civil date. Whole days make
// date arithmetic exact, with no time-of-day or zone to carry along.
func dayNumber(year int, month time.Month, day int) int64 {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

func fromDayNumber(dn int64) (int, time.Month, int) {
	return time.Unix(dn*secondsPerDay, 0).UTC().Date()
}

func formatDayNumber(dn int64) string {
	return time.Unix(dn*secondsPerDay, 0).UTC().Format(time.DateOnly)
}

func isWeekend(dn int64) bool {
	// 1970-01-01 was a Thursday.
	wd := time.Weekday(((dn+int64(time.Thursday))%7 + 7) % 7)
	return wd == time.Saturday || wd == time.Sunday
}

// parseDayNumber reads a YYYY-MM-DD date; time.Parse with this layout
// demands two-digit months and days and refuses dates such as 02-30.
func parseDayNumber(s string) (int64, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return dayNumber(t.Date()), nil
}
