package awsemu

import "time"

// EC2State is the simulated EC2 service's state. (Stub: filled in by its service issue work.)
type EC2State struct {
	Instances map[string]*Instance `json:"instances"`
	Images    []*Image             `json:"images"`
}

func newEC2State(w *World) *EC2State {
	return &EC2State{Instances: map[string]*Instance{}, Images: defaultImages()}
}

func (s *Server) ec2TickLocked(now time.Time) {}

func (s *Server) registerEC2() {}
