package awsemu

// SSMState is the simulated SSM service's state. (Stub: filled in by its service issue work.)
type SSMState struct{}

func newSSMState(w *World) *SSMState { return &SSMState{} }

func (s *Server) registerSSM() {}
