// Package sim is the simulated outside world of the embedded default: the
// domain registry (WHOIS, real-name, MIIT filing status), the cloud
// inventory, number attribution, certificate OCR, the liveness provider and
// MIIT's SMS platform. It reads its records from a seed file (--sim-data) or
// the built-in default, which lets a demo filing pass and has records that
// fail each check. It applies no rules: the domain does.
package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
)

//go:embed default.json
var defaultSeed []byte

// Seed is the simulated providers' data; docs/sim-data.md documents it.
type Seed struct {
	Domains            []DomainRecord    `json:"domains"`
	Entities           []EntityRecord    `json:"entities"`
	Instances          []InstanceRecord  `json:"instances"`
	AuthorizationCodes []AuthCodeRecord  `json:"authorizationCodes"`
	Mobiles            map[string]string `json:"mobiles"` // mobile → GB/T 2260 province code
	OCR                []OCRRecord       `json:"ocr"`
	About              string            `json:"about,omitempty"`
}

// DomainRecord is what WHOIS and MIIT say about a domain. Expiry is relative
// to the simulated clock, so a seed does not rot.
type DomainRecord struct {
	Name                        string `json:"name"` // ASCII (punycode) form
	Registrar                   string `json:"registrar"`
	RegistrarApproved           bool   `json:"registrarApproved"`
	ExpiresInDays               int    `json:"expiresInDays"`
	RealNameVerified            bool   `json:"realNameVerified"`
	RegistrantName              string `json:"registrantName"`
	RegistrantCertificateNumber string `json:"registrantCertificateNumber,omitempty"`
	Filed                       bool   `json:"filed,omitempty"`
	InFlight                    bool   `json:"inFlight,omitempty"`
}

// EntityRecord is MIIT's record of an entity.
type EntityRecord struct {
	CertificateNumber string `json:"certificateNumber"`
	Filed             bool   `json:"filed"`
	InBureauReview    bool   `json:"inBureauReview"`
	ICPNumber         string `json:"icpNumber,omitempty"`
}

// InstanceRecord is a server in the cloud inventory. Account "" means any
// account owns it (a demo convenience).
type InstanceRecord struct {
	ID            string `json:"id"`
	Account       string `json:"account,omitempty"`
	Mainland      bool   `json:"mainland"`
	PublicIP      bool   `json:"publicIp"`
	Billing       string `json:"billing"`
	MonthsBought  int    `json:"monthsBought"`
	DaysLeft      int    `json:"daysLeft"`
	WebsitesFiled int    `json:"websitesFiled"`
}

// AuthCodeRecord is a filing authorization code.
type AuthCodeRecord struct {
	Code           string `json:"code"`
	Used           bool   `json:"used"`
	ServerDaysLeft int    `json:"serverDaysLeft"`
	Domain         string `json:"domain,omitempty"`
}

// OCRRecord is what OCR reads from the image with the digest.
type OCRRecord struct {
	SHA256     string  `json:"sha256"`
	Name       string  `json:"name"`
	Number     string  `json:"number"`
	Address    string  `json:"address"`
	ValidUntil string  `json:"validUntil"`
	Confidence float64 `json:"confidence"`
}

// DefaultSeed returns the built-in data.
func DefaultSeed() Seed {
	var s Seed
	if err := json.Unmarshal(defaultSeed, &s); err != nil {
		panic("sim: built-in seed is broken: " + err.Error()) // a test guards it
	}
	return s
}

// LoadSeed reads a seed file; unknown fields are refused so a typo is noticed.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sim data: %w", err)
	}
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("sim data %s: %w", path, err)
	}
	return s, nil
}

// Providers implements every simulated port.
type Providers struct {
	seed  Seed
	clock commands.Clock

	mu    sync.Mutex
	codes map[string]string // filing id + mobile → last SMS code sent
}

// New returns the simulated providers over a seed.
func New(seed Seed, clock commands.Clock) *Providers {
	if clock == nil {
		panic("sim.New: nil clock")
	}
	return &Providers{seed: seed, clock: clock, codes: map[string]string{}}
}

// LookupDomain implements commands.DomainRegistry.
func (p *Providers) LookupDomain(_ context.Context, name string) (domain.DomainFacts, error) {
	for _, d := range p.seed.Domains {
		if strings.EqualFold(d.Name, name) {
			return domain.DomainFacts{
				Registrar: d.Registrar, RegistrarApproved: d.RegistrarApproved,
				ExpiresAt:        p.clock.Now().AddDate(0, 0, d.ExpiresInDays).UTC().Truncate(time.Second),
				RealNameVerified: d.RealNameVerified, RegistrantName: d.RegistrantName,
				RegistrantCertificateNumber: d.RegistrantCertificateNumber, AlreadyFiled: d.Filed, InFlight: d.InFlight,
			}, nil
		}
	}
	return domain.DomainFacts{}, fmt.Errorf("domain %s: %w", name, commands.ErrUnknown)
}

// LookupEntity implements commands.FilingRegistry; unknown entities are new.
func (p *Providers) LookupEntity(_ context.Context, certificateNumber string) (commands.EntityStatus, error) {
	for _, e := range p.seed.Entities {
		if strings.EqualFold(e.CertificateNumber, certificateNumber) {
			return commands.EntityStatus{Filed: e.Filed, InBureauReview: e.InBureauReview, ICPNumber: e.ICPNumber}, nil
		}
	}
	return commands.EntityStatus{}, nil
}

// LookupInstance implements commands.CloudInventory.
func (p *Providers) LookupInstance(_ context.Context, account, id string) (domain.InstanceFacts, error) {
	for _, i := range p.seed.Instances {
		if i.ID == id && (i.Account == "" || i.Account == account) {
			return domain.InstanceFacts{Exists: true, Mainland: i.Mainland, PublicIP: i.PublicIP, Billing: i.Billing,
				MonthsBought: i.MonthsBought, DaysLeft: i.DaysLeft, WebsitesFiled: i.WebsitesFiled}, nil
		}
	}
	return domain.InstanceFacts{}, fmt.Errorf("server %s: %w", id, commands.ErrUnknown)
}

// LookupAuthorizationCode implements commands.CloudInventory.
func (p *Providers) LookupAuthorizationCode(_ context.Context, code string) (domain.AuthorizationCodeFacts, error) {
	for _, c := range p.seed.AuthorizationCodes {
		if c.Code == code {
			return domain.AuthorizationCodeFacts{Exists: true, Used: c.Used, ServerDaysLeft: c.ServerDaysLeft, Domain: c.Domain}, nil
		}
	}
	return domain.AuthorizationCodeFacts{}, fmt.Errorf("authorization code: %w", commands.ErrUnknown)
}

// MobileProvince implements commands.NumberAttribution.
func (p *Providers) MobileProvince(_ context.Context, mobile string) (string, error) {
	if province, ok := p.seed.Mobiles[mobile]; ok {
		return province, nil
	}
	return "", fmt.Errorf("mobile: %w", commands.ErrUnknown)
}

// Recognize implements commands.CertificateOCR: images in the seed are read
// as recorded; any other image yields empty fields with zero confidence.
func (p *Providers) Recognize(_ context.Context, image io.Reader) (commands.OCRResult, error) {
	h := sha256.New()
	if _, err := io.Copy(h, image); err != nil {
		return commands.OCRResult{}, fmt.Errorf("read image: %w", err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	for _, r := range p.seed.OCR {
		if r.SHA256 == digest {
			f := func(v string) commands.OCRField { return commands.OCRField{Value: v, Confidence: r.Confidence} }
			return commands.OCRResult{Name: f(r.Name), Number: f(r.Number), Address: f(r.Address), ValidUntil: f(r.ValidUntil)}, nil
		}
	}
	return commands.OCRResult{}, nil
}

// StartSession implements commands.LivenessVerifier: a session with a random
// id; the verdict arrives through passLiveness / failLiveness.
func (p *Providers) StartSession(_ context.Context, req commands.LivenessRequest) (commands.LivenessSession, error) {
	if req.Name == "" {
		return commands.LivenessSession{}, errors.New("liveness: no principal name")
	}
	id := "live-" + randomHex(8)
	return commands.LivenessSession{ID: id, URL: "https://liveness.sim.invalid/session/" + id}, nil
}

// SendCodes implements commands.SMSPlatform with random six-digit codes.
func (p *Providers) SendCodes(_ context.Context, filingID string, mobiles []string) (map[string]string, error) {
	codes := make(map[string]string, len(mobiles))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range mobiles {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return nil, fmt.Errorf("sms code: %w", err)
		}
		codes[m] = fmt.Sprintf("%06d", n.Int64())
		p.codes[filingID+"/"+m] = codes[m]
	}
	return codes, nil
}

// SentCode returns the last code sent to a mobile for a filing: the
// simulated phone, for demos and tests.
func (p *Providers) SentCode(filingID, mobile string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[filingID+"/"+mobile]
	return c, ok
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	return hex.EncodeToString(b)
}
