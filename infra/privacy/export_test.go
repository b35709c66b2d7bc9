package privacy

import "context"

// Key returns the subject's key as Cipher finds or makes it, so that the
// tests can compare the keys of two stores.
func (k *KeyStore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	c, err := k.entry(ctx, subject, create)
	return c.key, err
}
