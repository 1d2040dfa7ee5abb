package awsemu

// EKSState is the simulated EKS service's state. (Stub: filled in by its service issue work.)
type EKSState struct{}

func newEKSState(w *World) *EKSState { return &EKSState{} }

func (s *Server) registerEKS() {}
