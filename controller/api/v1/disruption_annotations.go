package v1

// A disruption decision is recorded on the NodeClaims it touches, so that a
// controller that restarts while replacements launch can carry it on or
// roll it back instead of forgetting it (see controllers/disruption).
const (
	// DisruptionCommandAnnotationKey holds the id of the decision a
	// NodeClaim takes part in, as a candidate or as a replacement.
	DisruptionCommandAnnotationKey = Group + "/disruption-command"
	// DisruptionMethodAnnotationKey, on a candidate, is the method that
	// chose it (Emptiness, Drift, ...).
	DisruptionMethodAnnotationKey = Group + "/disruption-method"
	// DisruptionReasonAnnotationKey, on a candidate, is the budget reason
	// (Empty, Underutilized, Drifted); absent for expiration.
	DisruptionReasonAnnotationKey = Group + "/disruption-reason"
	// DisruptionStartedAnnotationKey, on a candidate, is when the decision
	// was taken (RFC 3339); the replacement timeout counts from it.
	DisruptionStartedAnnotationKey = Group + "/disruption-started"
	// DisruptionReplacementsAnnotationKey, on a candidate, is how many
	// replacements the decision launches, so a restart can tell a
	// replacement that was never created from one still to come.
	DisruptionReplacementsAnnotationKey = Group + "/disruption-replacements"
	// ReplacesAnnotationKey, on a replacement, lists the NodeClaims it
	// replaces, comma-separated.
	ReplacesAnnotationKey = Group + "/replaces"
	// ReplacementForAnnotationKey, on a NodeClaim launched for the pods of
	// interrupted nodes, names those nodes, comma-separated: only the nodes
	// whose pods the claim was planned to take, so each node waits for its
	// own replacements and no others.
	ReplacementForAnnotationKey = Group + "/replacement-for"
)
