package privacy

import (
	"context"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
)

// Sealer seals the events of a filing for the command side
// (commands.Sealer): it knows from the filing whose data each field is.
type Sealer struct {
	P *Protector
}

// Seal encrypts the personal fields of the events in place.
func (s Sealer) Seal(ctx context.Context, f domain.Filing, events []eventstore.EventData) error {
	sc := SealContext{Individual: f.Kind() == domain.KindIndividual, EntityCertificate: f.CertificateNumber, Mobiles: map[string]string{}}
	if f.Entity != nil {
		sc.Mobiles[f.Entity.Principal.Mobile] = f.Entity.Principal.CertificateNumber
	}
	for i := range f.Websites {
		if p := f.WebsitePrincipal(&f.Websites[i]); p != nil {
			sc.Mobiles[p.Mobile] = p.CertificateNumber
		}
	}
	for i := range events {
		sealed, err := s.P.Seal(ctx, events[i].Data, sc)
		if err != nil {
			return err
		}
		events[i].Data = sealed
		events[i].Metadata.SchemaVersion = SchemaSealed
	}
	return nil
}
