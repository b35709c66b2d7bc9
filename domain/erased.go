package domain

// Erased stands in for a personal value whose data subject was erased
// (crypto-shredding): the filing keeps its facts, the person's data reads
// as this. It is not personal data, so masking leaves it as it is.
const Erased = "[erased]"
