// Package domain is the ICP filing aggregate: the filing's state, its commands
// and events, the pure functions Decide and Evolve, the validators of the
// values a filing holds (resident ID numbers, credit codes, phones, domains,
// ICP numbers) and the province rules, kept as versioned embedded data.
//
// It does no I/O, reads no clock and holds no package-level mutable state:
// time and every fact from outside (WHOIS, cloud inventory) arrive inside the
// commands. It imports the standard library and golang.org/x/net/idna only.
package domain
