package awsemu

import "time"

// SQSState is the simulated SQS service's state. (Stub: filled in by its service issue work.)
type SQSState struct{}

func newSQSState(w *World) *SQSState { return &SQSState{} }

func (s *Server) sqsTickLocked(now time.Time) {}

func (s *Server) registerSQS() {}
