package sqlite

import "testing"

func TestChangesRows(t *testing.T) {
	for q, want := range map[string]bool{
		`INSERT INTO t VALUES (1)`:                     true,
		"  \n\tupdate t SET n = 1":                     true,
		`-- drop the old row` + "\n" + `DELETE FROM t`: true,
		`/* upsert */ INSERT INTO t VALUES (1)`:        true,
		`WITH x AS (SELECT 1) DELETE FROM t`:           true,
		`CREATE TABLE IF NOT EXISTS t (k BIGINT)`:      false,
		`CREATE INDEX IF NOT EXISTS t_k ON t (k)`:      false,
		`DROP TABLE IF EXISTS t`:                       false,
		`SELECT 1`:                                     false,
		`-- only a comment`:                            false,
		`/* unterminated`:                              false,
		``:                                             false,
		`INSERTS`:                                      false,
	} {
		if got := changesRows(q); got != want {
			t.Errorf("changesRows(%q) = %v, want %v", q, got, want)
		}
	}
}
