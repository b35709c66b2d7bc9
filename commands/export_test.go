package commands

// CommandID exposes the id a command gets, so the component tests can check
// the metadata of the events it appends.
func CommandID(account, name, filingID, key string) string {
	return deriveCommandID(account, name, filingID, key).String()
}
