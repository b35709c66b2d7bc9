package domain

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

//go:embed data/*.json
var embeddedData embed.FS

// Rules is everything the filing rules need that varies by province, channel
// or year: kept as versioned data so that a bureau's change is a data change.
// A Rules value is immutable after LoadRules and safe for concurrent use.
type Rules struct {
	Version   string // provinces and catalog versions, recorded on every filing
	Channel   Channel
	provinces map[string]*Province
	order     []string // province codes in GB/T 2260 order
	catalog   catalog
	tlds      *TLDPolicy
	calendar  *Calendar
}

// Channel holds the limits of this provider's filing channel (the
// mini-program) that hold in every province unless a province says otherwise.
type Channel struct {
	Name                      string         `json:"name"`
	MaxWebsites               map[string]int `json:"maxWebsites"` // by nature kind
	MaxDomainsPerWebsite      int            `json:"maxDomainsPerWebsite"`
	MaxWebsitesPerServer      int            `json:"maxWebsitesPerServer"`
	MinServerMonthsBought     int            `json:"minServerMonthsBought"`
	MinServerDaysLeft         int            `json:"minServerDaysLeft"`
	MinAuthCodeServerDaysLeft int            `json:"minAuthCodeServerDaysLeft"`
	MinPrincipalAge           int            `json:"minPrincipalAge"`
	BureauReviewWorkingDays   int            `json:"bureauReviewWorkingDays"`
	InitialReviewWorkingDays  int            `json:"initialReviewWorkingDays"`
	SMSValidHours             int            `json:"smsValidHours"`
	SMSMaxWrongCodes          int            `json:"smsMaxWrongCodes"`
	IdleReminderDays          []int          `json:"idleReminderDays"`
	IdleExpiryDays            int            `json:"idleExpiryDays"`
	MaxMaterialBytes          int64          `json:"maxMaterialBytes"`
	MaterialContentTypes      []string       `json:"materialContentTypes"`
}

// Principal policies: who may be an organisation's entity principal.
const (
	PrincipalLegalRep             = "legal_rep"               // must be the legal representative
	PrincipalLegalRepOrAuthorised = "legal_rep_or_authorised" // or someone with the legal rep's authorisation letter
	PrincipalFree                 = "free"                    // anyone
)

// Province is one provincial bureau's rules. Zero values mean "no rule
// beyond the channel's".
type Province struct {
	Code                          string         `json:"code"` // GB/T 2260, two digits
	Name                          string         `json:"name"`
	NameEn                        string         `json:"nameEn"`
	Short                         string         `json:"short"` // as written at the start of addresses
	Abbr                          string         `json:"abbr"`  // in ICP numbers
	Supported                     bool           `json:"supported"`
	AreaCodes                     []string       `json:"areaCodes"` // landline area codes or ranges "0310-0319"
	Principal                     string         `json:"principal"`
	WebsitePrincipalAuthorisation bool           `json:"websitePrincipalAuthorisation"`
	MinDomainValidityMonths       int            `json:"minDomainValidityMonths"`
	MobileInProvince              bool           `json:"mobileInProvince"`
	EmergencyContact              bool           `json:"emergencyContact"`
	DistinctEmails                bool           `json:"distinctEmails"`
	OrganisationLandline          bool           `json:"organisationLandline"`
	MaxWebsites                   map[string]int `json:"maxWebsites"`
	MaxDomainsPerWebsite          int            `json:"maxDomainsPerWebsite"`
	MaxDomainsPerFiling           map[string]int `json:"maxDomainsPerFiling"`
	HomepagePerDomain             bool           `json:"homepagePerDomain"`
	PersonalBlog                  string         `json:"personalBlog"` // "", "banned" or "required"
	PersonalRemarksMinChars       int            `json:"personalRemarksMinChars"`
	AddressSameCity               bool           `json:"addressSameCity"`
	AddressNoDashNumbers          bool           `json:"addressNoDashNumbers"`
	DomainCertificate             string         `json:"domainCertificate"` // "", "every" or "five_or_more"
	PartyBuildingLetter           bool           `json:"partyBuildingLetter"`
	RegistrantOrganisationOnly    bool           `json:"registrantOrganisationOnly"`
	PersonalCrossProvince         bool           `json:"personalCrossProvince"` // individuals from elsewhere with a residence permit
	BureauReviewWorkingDays       int            `json:"bureauReviewWorkingDays"`
	MinPrincipalAge               int            `json:"minPrincipalAge"`
	// NoLatinOnlyNames refuses website names whose only Chinese is a generic
	// word (网, 官网…) added to English, pinyin or digits (Shanghai, Henan).
	NoLatinOnlyNames bool `json:"noLatinOnlyNames"`
	// ConstructionPlanOverPrefixes: a filing with more distinct domain
	// prefixes than this, by nature kind, needs a construction plan and every
	// domain's certificate (Guangdong: individual 5, organisation 31).
	ConstructionPlanOverPrefixes map[string]int `json:"constructionPlanOverPrefixes"`
	// IncomeProofUnderAge: principals with a resident ID younger than this
	// (and old enough to file) need proof of employment or income (Jiangsu,
	// Chongqing: 16 to 18).
	IncomeProofUnderAge int `json:"incomeProofUnderAge"`
}

// Nature kinds: the two shapes a filing takes.
const (
	KindIndividual   = "individual"
	KindOrganisation = "organisation"
)

// Nature is an entity nature (主体性质) with the certificates it files with.
type Nature struct {
	Code         string   `json:"code"`
	ID           int      `json:"id"` // the MIIT/WeChat numeric id
	Zh           string   `json:"zh"`
	En           string   `json:"en"`
	Kind         string   `json:"kind"`
	State        bool     `json:"state"`   // a state body: may use 中国/国家… in website names
	Channel      bool     `json:"channel"` // offered by this channel
	Certificates []string `json:"certificates"`
}

// CertificateType is a kind of identity or registration certificate and the
// number format it carries.
type CertificateType struct {
	Code      string `json:"code"`
	Zh        string `json:"zh"`
	En        string `json:"en"`
	Format    string `json:"format"`
	Channel   bool   `json:"channel"`
	Principal bool   `json:"principal"` // allowed for principals besides resident_id
}

// ServiceContent is a website service-content option (网站服务内容).
type ServiceContent struct {
	Code        string `json:"code"`
	Zh          string `json:"zh"`
	En          string `json:"en"`
	Individual  bool   `json:"individual"`  // individuals may choose it
	PreApproval string `json:"preApproval"` // category whose approval it needs
}

// PreApprovalCategory is a 前置审批 category and the document that proves it.
type PreApprovalCategory struct {
	Code   string `json:"code"`
	Zh     string `json:"zh"`
	En     string `json:"en"`
	Issuer string `json:"issuer"`
}

// RejectionReasonCode is one of the provider's standard rejection reasons.
type RejectionReasonCode struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

type nameKeyword struct {
	Word           string `json:"word"`
	PreApproval    string `json:"preApproval"`
	ServiceContent string `json:"serviceContent"`
}

type websiteNameRules struct {
	MinChars                 int           `json:"minChars"`
	MaxChars                 int           `json:"maxChars"`
	StatePrefixes            []string      `json:"statePrefixes"`
	SensitiveWords           []string      `json:"sensitiveWords"`
	IndividualForbiddenWords []string      `json:"individualForbiddenWords"`
	Keywords                 []nameKeyword `json:"keywords"`
	// GenericWords do not make a name Chinese where a province refuses
	// English, pinyin or digit names: "Apple官网" is still an English name.
	GenericWords []string `json:"genericWords"`
}

type catalog struct {
	Version          string                `json:"version"`
	Natures          []Nature              `json:"natures"`
	Certificates     []CertificateType     `json:"certificates"`
	ServiceContents  []ServiceContent      `json:"serviceContents"`
	PreApprovals     []PreApprovalCategory `json:"preApprovals"`
	WebsiteNames     websiteNameRules      `json:"websiteNames"`
	RejectionReasons []RejectionReasonCode `json:"rejectionReasons"`
}

type provincesFile struct {
	Version   string     `json:"version"`
	Channel   Channel    `json:"channel"`
	Provinces []Province `json:"provinces"`
}

// LoadRules parses the embedded rule data. It fails only if the embedded
// files are broken, which a test catches before release.
func LoadRules() (*Rules, error) {
	read := func(name string) []byte {
		b, err := embeddedData.ReadFile("data/" + name)
		if err != nil {
			return nil
		}
		return b
	}
	return ParseRules(read("provinces.json"), read("catalog.json"), read("tlds.json"), read("holidays.json"))
}

// ParseRules builds Rules from the four data files, checking their
// consistency; every problem found is reported.
func ParseRules(provincesJSON, catalogJSON, tldsJSON, holidaysJSON []byte) (*Rules, error) {
	var pf provincesFile
	if err := json.Unmarshal(provincesJSON, &pf); err != nil {
		return nil, fmt.Errorf("provinces data: %w", err)
	}
	var cat catalog
	if err := json.Unmarshal(catalogJSON, &cat); err != nil {
		return nil, fmt.Errorf("catalog data: %w", err)
	}
	tlds, err := ParseTLDPolicy(tldsJSON)
	if err != nil {
		return nil, fmt.Errorf("tld data: %w", err)
	}
	cal, err := ParseCalendar(holidaysJSON)
	if err != nil {
		return nil, fmt.Errorf("holiday data: %w", err)
	}
	r := &Rules{
		Version:   "provinces " + pf.Version + ", catalog " + cat.Version + ", tlds " + tlds.Version + ", calendar " + cal.Version(),
		Channel:   pf.Channel,
		provinces: make(map[string]*Province, len(pf.Provinces)),
		catalog:   cat,
		tlds:      tlds,
		calendar:  cal,
	}
	var errs []error
	for i := range pf.Provinces {
		p := &pf.Provinces[i]
		if _, dup := r.provinces[p.Code]; dup {
			errs = append(errs, fmt.Errorf("province %s listed twice", p.Code))
		}
		switch p.Principal {
		case PrincipalLegalRep, PrincipalLegalRepOrAuthorised, PrincipalFree:
		default:
			errs = append(errs, fmt.Errorf("province %s: unknown principal policy %q", p.Code, p.Principal))
		}
		for kind, n := range p.ConstructionPlanOverPrefixes {
			if (kind != KindIndividual && kind != KindOrganisation) || n < 0 {
				errs = append(errs, fmt.Errorf("province %s: bad constructionPlanOverPrefixes %s=%d", p.Code, kind, n))
			}
		}
		if p.IncomeProofUnderAge < 0 || p.IncomeProofUnderAge > 0 && p.IncomeProofUnderAge <= r.minPrincipalAge(p) {
			errs = append(errs, fmt.Errorf("province %s: incomeProofUnderAge %d is not above the minimum age %d",
				p.Code, p.IncomeProofUnderAge, r.minPrincipalAge(p)))
		}
		for _, ac := range p.AreaCodes {
			if _, _, err := parseAreaCodeRange(ac); err != nil {
				errs = append(errs, fmt.Errorf("province %s: %w", p.Code, err))
			}
		}
		r.provinces[p.Code] = p
		r.order = append(r.order, p.Code)
	}
	for _, n := range cat.Natures {
		for _, c := range n.Certificates {
			if r.certificate(c) == nil {
				errs = append(errs, fmt.Errorf("nature %s: unknown certificate %q", n.Code, c))
			}
		}
	}
	for _, s := range cat.ServiceContents {
		if s.PreApproval != "" && r.preApproval(s.PreApproval) == nil {
			errs = append(errs, fmt.Errorf("service content %s: unknown pre-approval %q", s.Code, s.PreApproval))
		}
	}
	errs = append(errs, cat.check()...)
	if strings.TrimSpace(pf.Version) == "" {
		errs = append(errs, errors.New("provinces: version is empty"))
	}
	if len(pf.Provinces) == 0 {
		errs = append(errs, errors.New("provinces: none listed"))
	}
	if pf.Channel.MaxDomainsPerWebsite <= 0 || pf.Channel.SMSMaxWrongCodes <= 0 || pf.Channel.IdleExpiryDays <= 0 {
		errs = append(errs, errors.New("channel limits must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rule data: %w", err)
	}
	return r, nil
}

// check reports what in the catalog would make a rule misfire: no version
// or natures, a nature of no known kind, a website-name word that is empty
// (it would match every name) or names a category that does not exist.
func (cat *catalog) check() []error {
	var errs []error
	if strings.TrimSpace(cat.Version) == "" {
		errs = append(errs, errors.New("catalog: version is empty"))
	}
	if len(cat.Natures) == 0 {
		errs = append(errs, errors.New("catalog: no natures"))
	}
	for _, n := range cat.Natures {
		if n.Kind != KindIndividual && n.Kind != KindOrganisation {
			errs = append(errs, fmt.Errorf("nature %s: unknown kind %q", n.Code, n.Kind))
		}
	}
	names := cat.WebsiteNames
	words := map[string][]string{
		"statePrefixes": names.StatePrefixes, "sensitiveWords": names.SensitiveWords,
		"individualForbiddenWords": names.IndividualForbiddenWords, "genericWords": names.GenericWords,
	}
	for field, list := range words {
		if slices.ContainsFunc(list, func(w string) bool { return strings.TrimSpace(w) == "" }) {
			errs = append(errs, fmt.Errorf("websiteNames.%s: empty word", field))
		}
	}
	has := func(code string, list func(int) string, n int) bool {
		for i := 0; i < n; i++ {
			if list(i) == code {
				return true
			}
		}
		return false
	}
	for _, k := range names.Keywords {
		if strings.TrimSpace(k.Word) == "" {
			errs = append(errs, errors.New("websiteNames.keywords: empty word"))
		}
		if k.PreApproval != "" && !has(k.PreApproval, func(i int) string { return cat.PreApprovals[i].Code }, len(cat.PreApprovals)) {
			errs = append(errs, fmt.Errorf("keyword %s: unknown pre-approval %q", k.Word, k.PreApproval))
		}
		if k.ServiceContent != "" && !has(k.ServiceContent, func(i int) string { return cat.ServiceContents[i].Code }, len(cat.ServiceContents)) {
			errs = append(errs, fmt.Errorf("keyword %s: unknown service content %q", k.Word, k.ServiceContent))
		}
	}
	return errs
}

// parseAreaCodeRange reads "0755" or "0310-0319" into a numeric range of
// codes with the same number of digits.
func parseAreaCodeRange(s string) (lo, hi string, err error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	if len(lo) != len(hi) || len(lo) < 3 || len(lo) > 4 || lo[0] != '0' || lo > hi {
		return "", "", fmt.Errorf("bad area code range %q", s)
	}
	for _, x := range []string{lo, hi} {
		if _, err := strconv.Atoi(x); err != nil {
			return "", "", fmt.Errorf("bad area code range %q", s)
		}
	}
	return lo, hi, nil
}

// Province returns the rules of the province with the GB/T 2260 code, or nil.
func (r *Rules) Province(code string) *Province { return r.provinces[code] }

// Provinces lists every province in code order.
func (r *Rules) Provinces() []*Province {
	out := make([]*Province, 0, len(r.order))
	for _, c := range r.order {
		out = append(out, r.provinces[c])
	}
	return out
}

// ProvinceByAbbr finds a province by its ICP-number abbreviation.
func (r *Rules) ProvinceByAbbr(abbr string) *Province {
	for _, c := range r.order {
		if r.provinces[c].Abbr == abbr {
			return r.provinces[c]
		}
	}
	return nil
}

// Natures lists the entity natures.
func (r *Rules) Natures() []Nature { return slices.Clone(r.catalog.Natures) }

// Nature returns the nature with the code, or nil.
func (r *Rules) Nature(code string) *Nature {
	for i := range r.catalog.Natures {
		if r.catalog.Natures[i].Code == code {
			return &r.catalog.Natures[i]
		}
	}
	return nil
}

func (r *Rules) certificate(code string) *CertificateType {
	for i := range r.catalog.Certificates {
		if r.catalog.Certificates[i].Code == code {
			return &r.catalog.Certificates[i]
		}
	}
	return nil
}

// CertificateTypes lists the certificate types.
func (r *Rules) CertificateTypes() []CertificateType { return slices.Clone(r.catalog.Certificates) }

// ServiceContents lists the website service-content options.
func (r *Rules) ServiceContents() []ServiceContent { return slices.Clone(r.catalog.ServiceContents) }

func (r *Rules) serviceContent(code string) *ServiceContent {
	for i := range r.catalog.ServiceContents {
		if r.catalog.ServiceContents[i].Code == code {
			return &r.catalog.ServiceContents[i]
		}
	}
	return nil
}

// PreApprovals lists the pre-approval categories.
func (r *Rules) PreApprovals() []PreApprovalCategory { return slices.Clone(r.catalog.PreApprovals) }

func (r *Rules) preApproval(code string) *PreApprovalCategory {
	for i := range r.catalog.PreApprovals {
		if r.catalog.PreApprovals[i].Code == code {
			return &r.catalog.PreApprovals[i]
		}
	}
	return nil
}

// RejectionReasons lists the standard rejection reason codes.
func (r *Rules) RejectionReasons() []RejectionReasonCode {
	return slices.Clone(r.catalog.RejectionReasons)
}

func (r *Rules) rejectionReason(code string) *RejectionReasonCode {
	for i := range r.catalog.RejectionReasons {
		if r.catalog.RejectionReasons[i].Code == code {
			return &r.catalog.RejectionReasons[i]
		}
	}
	return nil
}

// Calendar is the working-day calendar the deadlines use.
func (r *Rules) Calendar() *Calendar { return r.calendar }

// TLDs is the approved top-level-domain policy.
func (r *Rules) TLDs() *TLDPolicy { return r.tlds }

// maxWebsites is the number of websites one filing may hold.
func (r *Rules) maxWebsites(p *Province, kind string) int {
	if n := p.MaxWebsites[kind]; n > 0 {
		return n
	}
	return r.Channel.MaxWebsites[kind]
}

func (r *Rules) maxDomainsPerWebsite(p *Province) int {
	if p.MaxDomainsPerWebsite > 0 {
		return p.MaxDomainsPerWebsite
	}
	return r.Channel.MaxDomainsPerWebsite
}

func (r *Rules) bureauReviewDays(p *Province) int {
	if p.BureauReviewWorkingDays > 0 {
		return p.BureauReviewWorkingDays
	}
	return r.Channel.BureauReviewWorkingDays
}

func (r *Rules) minPrincipalAge(p *Province) int {
	if p.MinPrincipalAge > 0 {
		return p.MinPrincipalAge
	}
	return r.Channel.MinPrincipalAge
}

// AreaCodeInProvince reports whether a landline area code belongs to the
// province (derived data; see provinces.json).
func (p *Province) AreaCodeInProvince(areaCode string) bool {
	for _, ac := range p.AreaCodes {
		lo, hi, err := parseAreaCodeRange(ac)
		if err != nil || len(areaCode) != len(lo) {
			continue
		}
		if areaCode >= lo && areaCode <= hi {
			return true
		}
	}
	return false
}
