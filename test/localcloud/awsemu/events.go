package awsemu

// EventsState is the simulated Events service's state. (Stub: filled in by its service issue work.)
type EventsState struct{}

func newEventsState(w *World) *EventsState { return &EventsState{} }

// emitLocked publishes an event to the default bus: matching rules deliver
// it to their targets.
func (s *Server) emitLocked(e Event) {}

func (s *Server) registerEvents() {}
