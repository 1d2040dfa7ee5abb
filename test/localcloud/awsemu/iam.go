package awsemu

// IAMState is the simulated IAM service's state. (Stub: filled in by its service issue work.)
type IAMState struct{}

func newIAMState(w *World) *IAMState { return &IAMState{} }

func (s *Server) registerIAM() {}
