package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/beian/beian/domain"
)

// CodeDomainNotRegistered: the registry has no such domain.
const CodeDomainNotRegistered = "domain.not_registered"

// lookupDomains asks the registry about each well-formed domain. Malformed
// names go to the domain as they are: its rules say what is wrong with them.
func lookupDomains(ctx context.Context, rules *domain.Rules, registry DomainRegistry, path string, names []string) ([]domain.DomainInput, []domain.FieldError, error) {
	out := make([]domain.DomainInput, len(names))
	var problems []domain.FieldError
	for i, name := range names {
		out[i].Name = name
		parsed, prob := domain.ParseDomainName(name, rules.TLDs())
		if prob != nil {
			continue
		}
		facts, err := registry.LookupDomain(ctx, parsed.ASCII)
		switch {
		case errors.Is(err, ErrUnknown):
			problems = append(problems, domain.FieldError{
				Path: path + "[" + strconv.Itoa(i) + "]", Code: CodeDomainNotRegistered,
				Message: domain.Message{Zh: "域名 " + parsed.Unicode + " 尚未注册", En: "domain " + parsed.Unicode + " is not registered"},
			})
		case err != nil:
			return nil, nil, fmt.Errorf("look up domain %s: %w", parsed.ASCII, err)
		}
		out[i].Facts = facts
	}
	return out, problems, nil
}

// lookupResource fills in the inventory's facts about a cloud resource. An
// unknown server or code leaves the facts empty: the domain's rules refuse it.
func lookupResource(ctx context.Context, inventory CloudInventory, account string, ref ResourceRef) (domain.CloudResource, error) {
	res := domain.CloudResource{Kind: ref.Kind, InstanceID: ref.InstanceID, AuthorizationCode: ref.AuthorizationCode}
	switch ref.Kind {
	case domain.ResourceInstance:
		if ref.InstanceID == "" {
			return res, nil
		}
		facts, err := inventory.LookupInstance(ctx, account, ref.InstanceID)
		switch {
		case errors.Is(err, ErrUnknown):
			res.Instance = &domain.InstanceFacts{}
		case err != nil:
			return res, fmt.Errorf("look up server %s: %w", ref.InstanceID, err)
		default:
			res.Instance = &facts
		}
	case domain.ResourceAuthorizationCode:
		if ref.AuthorizationCode == "" {
			return res, nil
		}
		facts, err := inventory.LookupAuthorizationCode(ctx, ref.AuthorizationCode)
		switch {
		case errors.Is(err, ErrUnknown):
		case err != nil:
			return res, fmt.Errorf("look up authorization code: %w", err)
		default:
			res.Code = &facts
		}
	}
	return res, nil
}

// mobileProvince asks where a mobile is registered; a malformed number is
// left to the domain's rules.
func mobileProvince(ctx context.Context, attribution NumberAttribution, mobile string) (string, error) {
	if domain.CheckMobile(mobile) != nil {
		return "", nil
	}
	p, err := attribution.MobileProvince(ctx, mobile)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return "", fmt.Errorf("mobile attribution: %w", err)
	}
	return p, nil
}
