package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// state is persisted as state.json, so `down` and `status` from another
// process find the components, and `up` reuses the ports of the last run so
// that kubeconfigs and Terraform state handed out earlier keep working.
type state struct {
	Ports     map[string]int      `json:"ports"`
	Processes map[string]*Process `json:"processes"`
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

func loadState(dir string) (*state, error) {
	s := &state{Ports: map[string]int{}, Processes: map[string]*Process{}}
	data, err := os.ReadFile(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading local cloud state: %w", err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("parsing %s: %w (remove the state directory to start afresh)", statePath(dir), err)
	}
	if s.Ports == nil {
		s.Ports = map[string]int{}
	}
	if s.Processes == nil {
		s.Processes = map[string]*Process{}
	}
	return s, nil
}

func (s *state) save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(dir) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing local cloud state: %w", err)
	}
	return os.Rename(tmp, statePath(dir))
}
