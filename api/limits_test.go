package api

import "testing"

func TestCountAliases(t *testing.T) {
	cases := map[string]int{
		`{ me { account } }`:                                                            0,
		`{ a: me { account } b: me { r: role } }`:                                       3,
		`query Q($id: ID!, $n: Int) { filing(id: $id) { id } }`:                         0,
		`{ x: filing(id: "a:b") { id } }`:                                               1,
		"{ # a: comment\n me { account } }":                                             0,
		`{ f: filing(id: """a: b""") { id } }`:                                          1,
		`mutation { verifyType(input: {province: "44", domains: ["a"]}) { filingId } }`: 0,
	}
	for doc, want := range cases {
		if got := countAliases(doc); got != want {
			t.Errorf("%q: %d aliases, want %d", doc, got, want)
		}
	}
}

func FuzzCountAliases(f *testing.F) {
	f.Add(`{ a: me { b: account } }`)
	f.Add(`"""unterminated`)
	f.Fuzz(func(t *testing.T, doc string) {
		if n := countAliases(doc); n < 0 || n > len(doc) {
			t.Fatalf("%d aliases in %d bytes", n, len(doc))
		}
	})
}

func TestIntrospects(t *testing.T) {
	for doc, want := range map[string]bool{
		`{ __schema { types { name } } }`:     true,
		`{ __type(name: "Filing") { name } }`: true,
		`{ me { __typename account } }`:       false,
		`{ filing(id: "x") { id } }`:          false,
	} {
		if got := introspects(doc); got != want {
			t.Errorf("%q: %v", doc, got)
		}
	}
}
